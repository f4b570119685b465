"""The Docker-free local stack: idempotent up, status, S3-backed broker restart, down."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import subprocess
import time
import uuid
from pathlib import Path

import asyncpg
import psutil
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from minio import Minio
from minio.error import InvalidResponseError, S3Error
from typer.testing import CliRunner

from driftline.cli.stack import app
from driftline.stack import LocalStack, StackError, StackInfo, external_stack_from_env
from driftline.stack.broker import create_topics
from tests.own_stack import stack_of_its_own

pytestmark = pytest.mark.integration


def _pids(stack: LocalStack) -> dict[str, int | None]:
    """Server name → pid."""
    return {s.name: s.pid for s in stack.status().servers}


def _gone(pid: int) -> bool:
    """True when ``pid`` is not running (a zombie counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_up_is_idempotent(local_stack_control: LocalStack, local_stack: StackInfo) -> None:
    before = _pids(local_stack_control)
    began = time.monotonic()
    info = local_stack_control.up()
    assert time.monotonic() - began < 5
    assert _pids(local_stack_control) == before
    assert all(before.values())
    assert info.env() == local_stack.env()
    env_file = local_stack_control.home / "stack.env"
    lines = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    assert lines == info.env()


def test_status_json_reports_servers_and_services(local_stack_control: LocalStack) -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    local_stack_control.register_service("probe", sleeper.pid, "http://127.0.0.1:8123")
    try:
        args = ["status", "--json", "--home", str(local_stack_control.home)]
        result = CliRunner().invoke(app, args)
        report = json.loads(result.stdout)
    finally:
        local_stack_control.unregister_service("probe")
        sleeper.kill()
        sleeper.wait()
    assert result.exit_code == 0, result.output
    assert set(report["servers"]) == {"s3", "postgres", "broker-log", "broker"}
    for server in report["servers"].values():
        assert server["url"].split("://")[0] in {"http", "postgresql", "kafka"}
        assert server["alive"]
        assert server["answering"]
        assert server["pid"]
    assert report["services"]["probe"]["url"] == "http://127.0.0.1:8123"
    assert report["services"]["probe"]["alive"] is True


async def test_broker_restart_keeps_the_log(
    local_stack_control: LocalStack, tmp_path: Path
) -> None:
    # A broker of its own: a restart of the session's broker can leave other tests' consumer
    # groups rebalancing (see tests.own_stack).
    with stack_of_its_own(tmp_path / "stack") as stack:
        await _restart_keeps_the_log(stack)


async def _restart_keeps_the_log(local_stack_control: LocalStack) -> None:
    servers = local_stack_control.info().kafka_bootstrap
    topic = f"stack-test-{uuid.uuid4().hex[:8]}"
    await create_topics(servers, [topic])
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        for i in range(20):
            await producer.send_and_wait(topic, f"m{i}".encode(), key=f"k{i % 5}".encode())
    finally:
        await producer.stop()
    await asyncio.to_thread(local_stack_control.kill_broker)
    await asyncio.to_thread(local_stack_control.start_broker)
    assert local_stack_control.info().kafka_bootstrap == servers
    assert sorted(await _read_all(servers, topic, 20)) == sorted(f"m{i}" for i in range(20))


async def _read_all(servers: str, topic: str, count: int, timeout_s: float = 20) -> list[str]:
    """Read ``count`` values of ``topic`` from the beginning, without a consumer group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not parts:
            parts = [TopicPartition(topic, p) for p in range(4)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        values: list[str] = []
        async with asyncio.timeout(timeout_s):
            while len(values) < count:
                batches = await consumer.getmany(timeout_ms=500)
                values += [r.value.decode() for rs in batches.values() for r in rs]
        return values
    finally:
        await consumer.stop()


async def test_postgres_answers_select_1(local_stack: StackInfo) -> None:
    conn = await asyncpg.connect(local_stack.asyncpg_dsn)
    try:
        assert await conn.fetchval("select 1") == 1
    finally:
        await conn.close()


def test_s3_put_and_get(local_stack: StackInfo) -> None:
    s3 = Minio(
        local_stack.s3_endpoint,
        access_key=local_stack.s3_access_key,
        secret_key=local_stack.s3_secret_key,
        secure=False,
        region="us-east-1",
    )
    key = f"stack-test/{uuid.uuid4().hex}.txt"
    s3.put_object(local_stack.bucket, key, io.BytesIO(b"hello driftline"), length=15)
    response = s3.get_object(local_stack.bucket, key)
    try:
        assert response.read() == b"hello driftline"
    finally:
        response.close()
        response.release_conn()
    with pytest.raises(S3Error, match="NoSuchKey"):
        s3.stat_object(local_stack.bucket, key + ".missing")
    with pytest.raises((S3Error, InvalidResponseError)):
        s3.get_object(local_stack.bucket, key + ".missing")


def test_down_stops_servers_and_services(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path / "home")
    stack.up()
    sleeper = subprocess.Popen(["sleep", "300"], start_new_session=True)
    stack.register_service("sleeper", sleeper.pid, "http://127.0.0.1:9")
    pids = [*(pid for pid in _pids(stack).values() if pid), sleeper.pid]
    assert len(pids) == 5  # four servers + the registered service
    stack.down()
    sleeper.wait(timeout=5)
    assert all(_gone(pid) for pid in pids)
    report = stack.status()
    assert report.services == ()
    assert not any(s.alive for s in report.servers)


def test_occupied_port_is_a_clear_error_and_nothing_is_left(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        stack = LocalStack(tmp_path / "home", ports={"postgres": port})
        with pytest.raises(StackError, match=f"port {port}.*in use"):
            stack.up()
    assert not any(s.alive for s in stack.status().servers)


def test_missing_binary_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALF_TANSU_BIN", str(tmp_path / "no-tansu"))
    stack = LocalStack(tmp_path / "home")
    with pytest.raises(StackError, match="tansu"):
        stack.up()
    assert not any(s.alive for s in stack.status().servers)


def test_external_stack_needs_all_three_urls() -> None:
    env = {
        "DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS": "kafka:9092",
        "DRIFTLINE_DATABASE__URL": "postgresql+asyncpg://u:p@db:5432/driftline",
    }
    assert external_stack_from_env(env) is None
    info = external_stack_from_env({**env, "DRIFTLINE_STORAGE__ENDPOINT": "minio:9000"})
    assert info is not None
    assert info.external
    assert info.env()["DRIFTLINE_STORAGE__ENDPOINT"] == "minio:9000"


@pytest.mark.usefixtures("stack_environ")
def test_runtime_settings_see_the_stack(local_stack: StackInfo) -> None:
    from driftline.runtime.settings import RuntimeSettings

    settings = RuntimeSettings.load()
    assert settings.kafka.bootstrap_servers == local_stack.kafka_bootstrap
    assert settings.database.url == local_stack.database_url
    assert settings.storage.endpoint == local_stack.s3_endpoint
    assert settings.storage.secret_key.get_secret_value() == local_stack.s3_secret_key
