"""docker-compose.yml agrees with the code: services, ports, settings, health checks, topics."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from pydantic import BaseModel

from driftline.cli.main import app
from driftline.runtime.services import SERVICE_PORTS
from driftline.runtime.settings import KafkaSettings, RuntimeSettings
from driftline_contracts.topics import all_topics

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
_DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


@pytest.fixture(scope="module")
def driftline_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Containers that run the Driftline image (built from deploy/Dockerfile)."""
    return {
        name: spec for name, spec in services.items()
        if spec.get("build", {}).get("dockerfile") == "deploy/Dockerfile"
    }  # fmt: skip


def resolve(value: object) -> str:
    """A compose value with ``${VAR:-default}`` replaced by its default."""
    return _DEFAULTED.sub(lambda m: m.group(2), str(value))


@functools.cache
def _configuration_reference() -> str:
    from driftline.runtime.config_reference import render

    return render()


def settings_field(path: str) -> bool:
    """Whether ``A__B`` (after DRIFTLINE_) names a setting: RuntimeSettings' model tree or a
    service's own section (both are in the generated configuration reference)."""
    if f"`DRIFTLINE_{path.upper()}`" in _configuration_reference():
        return True
    model: type[BaseModel] = RuntimeSettings
    *sections, leaf = path.lower().split("__")
    for name in sections:
        field = model.model_fields.get(name)
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return False
        model = annotation
    return leaf in model.model_fields


def test_one_container_per_service_each_running_driftline_serve(
    driftline_services: dict[str, dict[str, Any]],
) -> None:
    assert set(driftline_services) == set(SERVICE_PORTS)
    assert "serve" in typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for name, spec in driftline_services.items():
        assert spec["command"] == ["serve", name]
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["driftline"]' in dockerfile
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "driftline" in scripts


def test_every_driftline_variable_is_a_real_setting(services: dict[str, dict[str, Any]]) -> None:
    names = {k for spec in services.values() for k in spec.get("environment", {})}
    unknown = [n for n in names if n.startswith("DRIFTLINE_")
               and not settings_field(n.removeprefix("DRIFTLINE_"))]  # fmt: skip
    assert unknown == [], "not fields of RuntimeSettings"


def test_service_env_parses_to_the_documented_ports(
    driftline_services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, spec in driftline_services.items():
        with monkeypatch.context() as patch:
            for key, value in spec["environment"].items():
                patch.setenv(key, resolve(value))
            settings = RuntimeSettings(_env_file=None)  # type: ignore[call-arg]
        port = SERVICE_PORTS[name]
        assert (settings.section(name).host, settings.section(name).port) == ("0.0.0.0", port)
        assert settings.kafka.idempotent_producer is True
        assert spec["ports"] == [f"{port}:{port}"]
        assert f"http://localhost:{port}/readyz" in " ".join(spec["healthcheck"]["test"])


def test_shared_env_points_at_the_stack_containers(
    services: dict[str, dict[str, Any]], driftline_services: dict[str, dict[str, Any]]
) -> None:
    env = {k: resolve(v) for k, v in next(iter(driftline_services.values()))["environment"].items()}
    assert (
        "PLAINTEXT://" + env["DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS"]
        in (services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"])
    )
    pg = services["postgres"]["environment"]
    assert env["DRIFTLINE_DATABASE__URL"] == (
        f"postgresql+asyncpg://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{pg['POSTGRES_DB']}"
    )
    minio = {k: resolve(v) for k, v in services["minio"]["environment"].items()}
    assert env["DRIFTLINE_STORAGE__ENDPOINT"] == "minio:9000"
    assert env["DRIFTLINE_STORAGE__ACCESS_KEY"] == minio["MINIO_ROOT_USER"]
    assert env["DRIFTLINE_STORAGE__SECRET_KEY"] == minio["MINIO_ROOT_PASSWORD"]
    bucket_cmd = " ".join(services["minio-init"]["command"])
    assert f"local/{env['DRIFTLINE_STORAGE__BUCKET']}" in bucket_cmd


def test_dependencies_wait_for_health_or_completion(services: dict[str, dict[str, Any]]) -> None:
    for name, spec in services.items():
        for target, rule in spec.get("depends_on", {}).items():
            condition = rule["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits on {target}"
            else:
                assert condition == "service_completed_successfully"
                assert services[target]["restart"] == "no", f"{target} is a one-shot"


def test_topic_init_creates_every_topic(services: dict[str, dict[str, Any]]) -> None:
    env = services["kafka-init"]["environment"]
    expected = "\n".join(f"        {t}" for t in all_topics())
    assert tuple(env["TOPICS"].split()) == all_topics(), (
        f"stale topic list; set kafka-init TOPICS to:\n      TOPICS: >-\n{expected}"
    )
    assert int(env["PARTITIONS"]) == KafkaSettings().partitions
    assert "kafka-topics.sh" in services["kafka-init"]["command"][0]


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_docker_compose_accepts_the_file() -> None:
    result = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "-q"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def _host_env() -> dict[str, str]:
    lines = (ROOT / "deploy" / "compose.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_host_env_reaches_the_published_ports(services: dict[str, dict[str, Any]]) -> None:
    """deploy/compose.env points host commands (the demo) at ports compose publishes."""
    env = _host_env()
    published = {
        int(mapping.split(":")[0])
        for spec in services.values()
        for mapping in spec.get("ports", [])
    }
    kafka = services["kafka"]["environment"]
    assert (
        f"HOST://{env['DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS']}" in kafka["KAFKA_ADVERTISED_LISTENERS"]
    )
    shared = services["ingest"]["environment"]
    container_db = resolve(shared["DRIFTLINE_DATABASE__URL"]).replace("@postgres:", "@localhost:")
    assert env["DRIFTLINE_DATABASE__URL"] == container_db
    for key in ("ACCESS_KEY", "SECRET_KEY", "BUCKET"):
        assert env[f"DRIFTLINE_STORAGE__{key}"] == resolve(shared[f"DRIFTLINE_STORAGE__{key}"])
    ports = [
        int(value.rsplit(":", 1)[1])
        for key, value in env.items()
        if key.endswith(("_URL", "__ENDPOINT", "__BOOTSTRAP_SERVERS"))
        and key != "DRIFTLINE_DATABASE__URL"
    ]
    ports.append(int(env["DRIFTLINE_DATABASE__URL"].rsplit(":", 1)[1].split("/")[0]))
    assert set(ports) <= published
    for name, port in SERVICE_PORTS.items():
        assert env[f"DRIFTLINE_{name.upper()}_URL"] == f"http://localhost:{port}"
    assert all(settings_field(k.removeprefix("DRIFTLINE_")) for k in env if "__" in k)
