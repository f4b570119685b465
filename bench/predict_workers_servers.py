"""The workers suite's servers: Driftline deployment and the Starlette floor, 1 or 2 workers.

Driftline runs as ``driftline serve deployment`` with ``DRIFTLINE_SERVE_WORKERS`` (uvicorn's
pre-fork master: one port, N worker processes) on one local stack, log on and off. The floor
is ``bench/predict_floor.py`` under ``uvicorn --workers N``. Every process gets one
BLAS/OpenMP thread, so N workers use at most N cores for predict.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from bench.driftline_side import publisher_headers
from bench.predict import HERE, ONE_THREAD, _approve, _wait_http
from driftline.stack import LocalStack
from driftline.stack.procs import free_port, spawn, stop
from driftline.stack.services import start_services, stop_services, wait_until_ready
from driftline.stack.state import load_state

MODEL = "bench-workers"
DRIFTLINE_LOG, DRIFTLINE_NOLOG = "Driftline (log on)", "Driftline (log off)"
FLOOR = "Starlette floor (uvicorn --workers)"


@dataclass(frozen=True)
class Served:
    """One server under test: where to POST, and the process whose tree serves it."""

    url: str
    process: psutil.Process


@dataclass(frozen=True)
class Others:
    """The stack's processes that compete for the cores: PostgreSQL and the broker."""

    database: psutil.Process
    broker: tuple[psutil.Process, ...]
    headers: dict[str, str]


class NotReadyError(RuntimeError):
    """A server did not answer ready from every worker in time."""


def wait_all_ready(url: str, checks: int = 10, timeout_s: float = 120) -> None:
    """``checks`` consecutive 200s from ``url`` on fresh connections (every worker loaded)."""
    deadline, streak = time.monotonic() + timeout_s, 0
    while streak < checks:
        with contextlib.suppress(httpx.HTTPError):
            ok = httpx.get(url, timeout=5).status_code == 200
            streak = streak + 1 if ok else 0
        if time.monotonic() > deadline:
            raise NotReadyError(f"{url} not ready from every worker")
        if streak == 0:
            time.sleep(0.5)


@contextlib.contextmanager
def floor(folder: Path, model_path: Path, workers: int) -> Iterator[Served]:
    """The Starlette floor under uvicorn with ``workers`` processes."""
    port = free_port()
    env = {**ONE_THREAD, "PREDICT_FLOOR_MODEL": str(model_path)}
    command = [
        sys.executable, "-m", "uvicorn", "bench.predict_floor:app", "--host", "127.0.0.1",
        "--port", str(port), "--no-access-log", "--log-level", "warning",
        "--loop", "uvloop", "--http", "httptools", "--workers", str(workers),
    ]  # fmt: skip
    ref = spawn(command, folder / f"floor-{workers}.log", env, cwd=HERE.parent)
    url = f"http://127.0.0.1:{port}/predict"
    try:
        _wait_http(url, json.dumps({"instances": []}).encode())
        yield Served(url, psutil.Process(ref.pid))
    finally:
        stop(ref, grace=10.0)


@contextlib.contextmanager
def driftline(folder: Path, blob: bytes) -> Iterator[tuple[dict[tuple[str, int], Served], Others]]:
    """Deployment with 1 and 2 workers, log on and off, on a fresh stack; keyed by
    (label, workers)."""
    stack = LocalStack(folder / "stack")
    info = stack.up()
    processes = []
    try:
        env = {**ONE_THREAD, "DRIFTLINE_LOG_LEVEL": "WARNING"}
        nolog = {**env, "DRIFTLINE_DEPLOYMENT__LOG_PREDICTIONS": "false"}
        slots = [(DRIFTLINE_LOG, 1, env), (DRIFTLINE_LOG, 2, env)]
        slots += [(DRIFTLINE_NOLOG, 1, nolog), (DRIFTLINE_NOLOG, 2, nolog)]
        for index, (_, workers, extra) in enumerate(slots, start=1):
            slot = "deployment" if index == 1 else f"deployment#{index}"
            with_workers = {**extra, "DRIFTLINE_SERVE_WORKERS": str(workers)}
            processes += start_services(stack, info, [slot], extra_env=with_workers)
        wait_until_ready(processes, timeout_s=180)
        asyncio.run(_approve(info, blob, MODEL))
        served = {}
        for (label, workers, _), process in zip(slots, processes, strict=True):
            wait_all_ready(f"{process.url}/v2/models/{MODEL}/ready")
            url = f"{process.url}/v1/models/{MODEL}/predict"
            served[label, workers] = Served(url, psutil.Process(process.ref.pid))
        pids = load_state(stack.home).pids
        broker = tuple(psutil.Process(pids[n].pid) for n in ("broker", "broker-log") if n in pids)
        yield served, Others(psutil.Process(pids["postgres"].pid), broker, publisher_headers(info))
    finally:
        stop_services(stack, processes)
        stack.down()
