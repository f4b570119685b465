"""Settings: one env prefix, nested sections, per-service ports, stack env file."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftline.runtime.services import SERVICE_PORTS
from driftline.runtime.settings import RuntimeSettings


def test_nested_env_vars_reach_their_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("DRIFTLINE_KAFKA__IDEMPOTENT_PRODUCER", "true")
    monkeypatch.setenv("DRIFTLINE_INGEST__PORT", "9001")
    monkeypatch.setenv("DRIFTLINE_STORAGE__SECRET_KEY", "s3cr3t")
    settings = RuntimeSettings()
    assert settings.kafka.bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert settings.kafka.idempotent_producer is True
    assert settings.section("ingest").port == 9001
    assert settings.storage.secret_key.get_secret_value() == "s3cr3t"
    assert "s3cr3t" not in repr(settings)


def test_every_service_has_its_documented_default_port() -> None:
    settings = RuntimeSettings()
    assert {name: settings.section(name).port for name in SERVICE_PORTS} == SERVICE_PORTS
    assert len(set(SERVICE_PORTS.values())) == len(SERVICE_PORTS)


def test_environment_wins_over_the_stack_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "stack.env").write_text(
        "DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS=127.0.0.1:1111\n"
        "DRIFTLINE_DATABASE__URL=postgresql+asyncpg://u:p@127.0.0.1:2222/driftline\n"
    )
    monkeypatch.setenv("DRIFTLINE_HOME", str(tmp_path))
    monkeypatch.delenv("DRIFTLINE_DATABASE__URL", raising=False)
    monkeypatch.setenv("DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:3333")
    settings = RuntimeSettings.load()
    assert settings.kafka.bootstrap_servers == "127.0.0.1:3333"
    assert settings.database.url.endswith("127.0.0.1:2222/driftline")


def test_invalid_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_RETRY__MAX_ATTEMPTS", "0")
    with pytest.raises(ValueError, match="max_attempts"):
        RuntimeSettings()


def test_one_nested_setting_keeps_the_sections_default_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DRIFTLINE_TRAINING__GRACEFUL_TIMEOUT_S", "5")
    settings = RuntimeSettings()
    assert settings.section("training").port == 8103
    assert settings.section("training").graceful_timeout_s == 5
