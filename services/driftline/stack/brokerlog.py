"""The broker's log store: a moto S3 server, because tansu needs S3 conditional writes.

tansu (0.6) keeps each partition's high watermark in ``watermark.json`` and relies on
conditional PUTs (``If-None-Match``/``If-Match``) to update it. ``rclone serve s3`` ignores
those conditions, so after a ``kill -9`` and restart tansu re-creates the watermark at 0 and
new records overwrite acknowledged ones (measured: 8 of 8 pre-restart records lost once 8
new ones were produced). moto's S3 server honours the conditions, and the same sequence
keeps all 16 with continuous offsets. moto holds the log in memory: it survives broker
restarts and crashes, not ``driftline stack down``.
"""

from __future__ import annotations

import shutil
import signal
import sys
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

from driftline.stack.errors import StackError
from driftline.stack.procs import HOST
from driftline.stack.s3 import ensure_buckets, s3_answers
from driftline.stack.spec import Launch, ServerSpec
from driftline.stack.state import StackState

if TYPE_CHECKING:
    from minio import Minio

NAME = "broker-log"
BUCKET = "tansu"
REGION = "us-east-1"
ACCESS_KEY = "tansu"
SECRET_KEY = "tansu-local-log"  # moto accepts any credentials; nothing secret is stored


def moto_server_bin() -> str:
    """Path of ``moto_server`` (the moto[server] extra) in this environment."""
    for folder in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        if (folder / "moto_server").is_file():
            return str(folder / "moto_server")
    found = shutil.which("moto_server")
    if found:
        return found
    raise StackError("moto_server not found: install moto[server] (pip install 'moto[server]')")


def endpoint(state: StackState) -> str:
    """``host:port`` of the log store."""
    return f"{HOST}:{state.ports[NAME]}"


def client(state: StackState) -> Minio:
    """A minio client for the log store."""
    from minio import Minio

    return Minio(
        endpoint(state), access_key=ACCESS_KEY, secret_key=SECRET_KEY, secure=False, region=REGION
    )


def _prepare(home: Path, state: StackState) -> Launch:
    return Launch([moto_server_bin(), "-H", HOST, "-p", str(state.ports[NAME])])


def _probe(home: Path, state: StackState) -> bool:
    return s3_answers(state.ports[NAME], client(state))


def _provision(home: Path, state: StackState) -> None:
    ensure_buckets(client(state), (BUCKET,))


SPEC = ServerSpec(
    name=NAME,
    stop_signal=signal.SIGTERM,
    start_timeout=30.0,
    prepare=_prepare,
    probe=_probe,
    provision=_provision,
    url=lambda state: f"http://{endpoint(state)}",
)
