"""Kafka security settings pass through to every client's configuration."""

from __future__ import annotations

import ssl

from driftline.runtime.kafka_config import aiokafka_kwargs
from driftline.runtime.settings import KafkaSettings


def test_plaintext_by_default() -> None:
    kwargs = aiokafka_kwargs(KafkaSettings(bootstrap_servers="b:9092"))
    assert kwargs["security_protocol"] == "PLAINTEXT"
    assert kwargs["bootstrap_servers"] == "b:9092"
    assert "sasl_mechanism" not in kwargs


def test_sasl_scram_over_tls() -> None:
    kafka = KafkaSettings(
        bootstrap_servers="b:9093",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="driftline",
        sasl_password="pw",  # type: ignore[arg-type]
    )
    kwargs = aiokafka_kwargs(kafka)
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert kwargs["sasl_plain_username"] == "driftline"
    assert kwargs["sasl_plain_password"] == "pw"
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext)


def test_sasl_plain_without_tls() -> None:
    kafka = KafkaSettings(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="PLAIN",
        sasl_username="u",
        sasl_password="p",
    )  # type: ignore[arg-type]
    kwargs = aiokafka_kwargs(kafka)
    assert kwargs["security_protocol"] == "SASL_PLAINTEXT"
    assert kwargs["sasl_mechanism"] == "PLAIN"
    assert kwargs["ssl_context"] is None


def test_tls_only() -> None:
    kwargs = aiokafka_kwargs(KafkaSettings(security_protocol="SSL"))
    assert kwargs["security_protocol"] == "SSL"
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext)


def test_retry_backoff_reaches_every_client() -> None:
    from driftline.runtime.broker import build_broker

    kafka = KafkaSettings(retry_backoff_ms=700)
    assert aiokafka_kwargs(kafka)["retry_backoff_ms"] == 700
    broker = build_broker(kafka, "training", graceful_timeout_s=1)
    # FastStream builds its producer, admin client and every consumer from these kwargs.
    assert broker._connection_kwargs["retry_backoff_ms"] == 700
