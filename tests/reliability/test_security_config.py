"""Security settings reach every Kafka client; secrets and dead-letter payloads stay out of logs."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

import pytest

from driftline.runtime import producer as producer_module
from driftline.runtime.app import load_definition
from driftline.runtime.broker import build_broker
from driftline.runtime.logging import configure_logging
from driftline.runtime.service import ServiceRuntime
from driftline.runtime.services import SERVICE_NAMES
from driftline.runtime.settings import KafkaSettings, RuntimeSettings
from tests.reliability.hostile import good_record
from tests.reliability.test_hostile_events import SUBSCRIPTIONS, _processor
from tests.signing import signing_env

SECRETS = {
    "DRIFTLINE_KAFKA__SASL_PASSWORD": "kafka-pw-5ecret-9d1",
    "DRIFTLINE_STORAGE__SECRET_KEY": "s3-5ecret-77ab",
    "DRIFTLINE_DATABASE__URL": "postgresql+asyncpg://driftline:pg-5ecret-31f@127.0.0.1:1/driftline",
    "DRIFTLINE_AUTH__TOKENS": "tok-5ecret-a1 user:alice publisher",
    "DRIFTLINE_AUDIT__DIGEST_KEY": "digest-5ecret-c4",
}
SECRET_VALUES = ("kafka-pw-5ecret-9d1", "s3-5ecret-77ab", "pg-5ecret-31f", "tok-5ecret-a1",
                 "digest-5ecret-c4")  # fmt: skip
SASL_SSL = KafkaSettings(
    bootstrap_servers="broker:9093",
    security_protocol="SASL_SSL",
    sasl_mechanism="SCRAM-SHA-512",
    sasl_username="driftline",
    sasl_password="kafka-pw-5ecret-9d1",  # type: ignore[arg-type]
)


def _assert_sasl_ssl(kwargs: dict[str, Any]) -> None:
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert kwargs["sasl_plain_username"] == "driftline"
    assert kwargs["sasl_plain_password"] == "kafka-pw-5ecret-9d1"
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext)


async def test_outbox_and_dead_letter_producer_gets_sasl_and_tls(monkeypatch) -> None:
    seen: dict[str, Any] = {}

    class FakeProducer:
        def __init__(self, **kwargs: Any) -> None:
            seen.update(kwargs)

        async def start(self) -> None:
            return None

    monkeypatch.setattr(producer_module, "AIOKafkaProducer", FakeProducer)
    await producer_module.KafkaPublisher(SASL_SSL, client_id="t").start()
    _assert_sasl_ssl(seen)
    assert seen["bootstrap_servers"] == "broker:9093"


def test_faststream_broker_consumers_producer_and_admin_get_sasl_and_tls() -> None:
    broker = build_broker(SASL_SSL, "training", graceful_timeout_s=1)
    # FastStream builds its producer, admin client and every consumer from these kwargs.
    _assert_sasl_ssl(broker._connection_kwargs)


def test_cli_publisher_gets_sasl_and_tls(monkeypatch) -> None:
    from driftline.cli.publish import _kafka_config

    monkeypatch.setenv("DRIFTLINE_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("DRIFTLINE_KAFKA__SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("DRIFTLINE_KAFKA__SASL_USERNAME", "driftline")
    monkeypatch.setenv("DRIFTLINE_KAFKA__SASL_PASSWORD", "kafka-pw-5ecret-9d1")
    _assert_sasl_ssl(_kafka_config("broker:9093"))


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_secrets_never_appear_in_settings_reprs_or_startup_logs(
    service: str, monkeypatch, capsys, tmp_path
) -> None:
    keys = signing_env(service)  # its own private key, inline: a secret like the others
    for name, value in {**SECRETS, **keys}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DRIFTLINE_HOME", str(tmp_path))
    monkeypatch.setenv("DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("DRIFTLINE_STORAGE__ENDPOINT", "127.0.0.1:1")
    definition = load_definition(service)
    settings: RuntimeSettings = definition.settings_cls.load()
    assert settings.kafka.sasl_password is not None  # the secrets were read from the env
    assert (
        settings.kafka.sasl_password.get_secret_value() == SECRETS["DRIFTLINE_KAFKA__SASL_PASSWORD"]
    )
    configure_logging("DEBUG", "json", service=service)
    runtime = ServiceRuntime(definition, settings)
    starting = asyncio.create_task(runtime.start())
    await asyncio.sleep(1.5)  # every dependency is unreachable: start-up logs its retries
    starting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await starting
    await runtime.engine.dispose()
    captured = capsys.readouterr()
    logs = captured.out + captured.err
    assert "start-up step failed" in logs
    for text in (logs, repr(settings), str(settings)):
        leaked = [s for s in (*SECRET_VALUES, keys["DRIFTLINE_SIGNING__KEY"]) if s in text]
        assert not leaked, leaked


async def test_dead_letter_payloads_are_not_logged(capsys) -> None:
    configure_logging("DEBUG", "json")
    marker = "PAYLOAD-5ecret-e9"
    for service, sub in SUBSCRIPTIONS:
        processor, _, sender = _processor(service, sub)
        good = good_record(sub)
        for value in (  # the reason names the field, never the value
            good.value[:-1] + f', "surplus": "{marker}"}}'.encode(),  # extra field
            good.value.replace(b"{", f'{{"surplus": "{marker}", '.encode(), 1)[:60],  # truncated
            good.value[:1] + f'"surplus": ["{marker}", NaN], '.encode() + good.value[1:],
        ):
            record = good.__class__(**{**good.__dict__, "value": value})
            await processor.process(record)
        assert len(sender.sent) == 3
    logs = "".join(capsys.readouterr())
    assert "event dead-lettered" in logs
    assert marker not in logs
