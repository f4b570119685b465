"""What a service's log says about stopping: SIGTERM sent, work in flight, its fate after.

The services log ``service stopping`` (with the events being handled), ``event handling cut
off`` for a handler the grace period ended, ``service stopped``, and the training worker's
``training job claimed``/``finished`` lines by run id; restarted processes append to the same
log, so byte offsets taken at SIGTERM and at exit split one life from the next.
"""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass
from typing import Any

import pytest

from driftline.stack import procs
from tests.reliability.loop import Fleet, signal_pid
from tests.reliability.watch import log_lines


def terminate(fleet: Fleet, grace_s: float) -> dict[str, float]:
    """SIGTERM every service at once; seconds each took to exit by itself. One still alive
    after ``grace_s`` is SIGKILLed and reported as ``inf``."""
    signalled = time.monotonic()
    for process in fleet.running.values():
        signal_pid(process.ref, signal.SIGTERM)
    exited: dict[str, float] = {}
    while len(exited) < len(fleet.running) and time.monotonic() - signalled < grace_s:
        for key, process in fleet.running.items():
            if key not in exited and not procs.is_alive(process.ref):
                exited[key] = round(time.monotonic() - signalled, 1)
        time.sleep(0.1)
    for key, process in fleet.running.items():
        procs.stop(process.ref, signal.SIGKILL, grace=0)  # reaps the exited ones
        exited.setdefault(key, float("inf"))
    return exited


@dataclass(frozen=True)
class Shutdown:
    """What the services' logs say about one SIGTERM: the work in flight and its fate."""

    in_flight_events: int
    """Consumed events being handled when each service began to stop."""
    in_flight_jobs: set[str]
    """Training runs claimed and not finished when SIGTERM came."""
    finished_jobs: set[str]
    """Training runs finished between SIGTERM and the process exit."""
    cut_off: int
    """Events whose handling the shutdown cancelled."""
    clean: set[str]
    """Services that logged ``service stopped``."""


def read_shutdown(
    fleet: Fleet, signalled_at: dict[str, int], exited_at: dict[str, int]
) -> Shutdown:
    """Read the log of each service's life that SIGTERM ended (byte offsets of both moments)."""
    in_flight_events, cut_off, clean = 0, 0, set()
    jobs_before: list[dict[str, Any]] = []
    jobs_after: list[dict[str, Any]] = []
    for key, process in fleet.running.items():
        before = log_lines(process.log_path, 0, signalled_at[key])
        after = log_lines(process.log_path, signalled_at[key], exited_at[key])
        for line in after:
            in_flight_events += line.get("events_in_flight", 0)
            cut_off += line.get("event") == "event handling cut off"
            if line.get("event") == "service stopped":
                clean.add(key)
        if key == "training":
            jobs_before, jobs_after = before, after
    claimed = runs(jobs_before, "training job claimed")
    return Shutdown(
        in_flight_events=in_flight_events,
        in_flight_jobs=claimed - runs(jobs_before, "training job finished"),
        finished_jobs=runs(jobs_after, "training job finished"),
        cut_off=cut_off,
        clean=clean,
    )


def runs(lines: list[dict[str, Any]], event: str) -> set[str]:
    """Run ids of the log lines saying ``event``."""
    return {line["run_id"] for line in lines if line.get("event") == event}


def reclaimed_runs(fleet: Fleet, model: str) -> int:
    """Runs of ``model`` claimed again because their lease ran out: the worker holding them
    let them go without putting them back (a release counts no attempt)."""
    lines = log_lines(fleet.running["training"].log_path)
    return sum(
        line.get("event") == "training job claimed"
        and line.get("model") == model
        and line.get("attempt", 1) > 1
        for line in lines
    )


def redelivered(fleet: Fleet, since: dict[str, int]) -> int:
    """Deliveries the restarted services' inboxes skipped as already applied, plus training
    runs claimed again after the restart."""
    count = 0
    for key, process in fleet.running.items():
        lines = log_lines(process.log_path, since[key])
        count += sum(line.get("event") == "duplicate delivery skipped" for line in lines)
        if key == "training":
            earlier = runs(log_lines(process.log_path, 0, since[key]), "training job claimed")
            count += len(earlier & runs(lines, "training job claimed"))
    return count


async def until_training_runs(fleet: Fleet, timeout_s: float = 30) -> None:
    """Wait until the training log shows a run claimed and not yet finished."""
    log = fleet.running["training"].log_path
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        lines = log_lines(log)
        if runs(lines, "training job claimed") - runs(lines, "training job finished"):
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"training ran nothing within {timeout_s} s")
