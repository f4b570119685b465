"""A stop outliving its grace period cancels its jobs again, says which stage it is in and
where each task waits."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from driftline.runtime.stop_watch import (
    cancel_and_wait,
    cancel_until_done,
    running_tasks,
    suspended_at,
    watch_stop,
)


async def _waits_on(event: asyncio.Event) -> None:
    await event.wait()


async def test_a_suspended_task_is_named_with_the_line_it_waits_at() -> None:
    event = asyncio.Event()
    task = asyncio.create_task(_waits_on(event), name="stuck-job")
    await asyncio.sleep(0)
    try:
        where = suspended_at(task)
        assert where.startswith("stuck-job: ")
        assert " in wait (via _waits_on > wait)" in where  # asyncio.Event.wait, in _waits_on
        assert any(line.startswith("stuck-job: ") for line in running_tasks())
    finally:
        event.set()
        await task
    assert not any(line.startswith("stuck-job: ") for line in running_tasks())


async def test_the_watch_is_silent_within_the_grace_period() -> None:
    with capture_logs() as logs:
        watch = asyncio.create_task(
            watch_stop(lambda: "kafka producer", time.monotonic() + 60.0, margin_s=0.0)
        )
        await asyncio.sleep(0.05)
        watch.cancel()
    assert logs == []


async def test_an_overdue_stop_logs_its_stage_and_every_waiting_task_until_it_ends() -> None:
    event = asyncio.Event()
    stuck = asyncio.create_task(_waits_on(event), name="deployment-score_request_stream")
    stage = ["consumers and background jobs"]
    with capture_logs() as logs:
        watch = asyncio.create_task(
            watch_stop(lambda: stage[0], time.monotonic() - 1.0, every_s=0.02, margin_s=0.0),
            name="deployment-stop-watch",
        )
        await asyncio.sleep(0.01)
        stage[0] = "kafka producer"
        await asyncio.sleep(0.03)
        watch.cancel()
    event.set()
    await stuck
    assert len(logs) >= 2
    first, later = logs[0], logs[-1]
    assert first["event"] == "service stop is taking longer than its grace period"
    assert first["log_level"] == "warning"
    assert first["stage"] == "consumers and background jobs"
    assert later["stage"] == "kafka producer"
    assert first["overdue_s"] >= 1.0
    waiting = first["waiting"]
    assert any(w.startswith("deployment-score_request_stream: ") for w in waiting)
    assert not any(w.startswith("deployment-stop-watch") for w in waiting)  # not itself


async def _swallows_one_cancellation(cut_off: list[int]) -> None:
    """Like a library's cleanup that suppresses ``CancelledError`` and carries on."""
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        cut_off.append(1)
    await asyncio.Event().wait()  # carries on as if nothing had asked it to stop


async def test_jobs_are_cancelled_again_past_the_deadline_until_they_end() -> None:
    cut_off: list[int] = []
    stubborn = asyncio.create_task(_swallows_one_cancellation(cut_off))
    finishing = asyncio.create_task(asyncio.sleep(0.01))
    await asyncio.sleep(0)
    started = time.monotonic()
    async with asyncio.timeout(2.0):
        await cancel_until_done([stubborn, finishing], started + 0.05, every_s=0.02)
    assert cut_off == [1]
    assert stubborn.cancelled()
    assert time.monotonic() - started >= 0.05  # not cancelled again before the deadline


async def test_a_failed_job_does_not_stop_the_others_being_waited_for() -> None:
    async def fails() -> None:
        raise RuntimeError("a job's last failure")

    failing = asyncio.create_task(fails())
    waiting = asyncio.create_task(asyncio.Event().wait())
    await asyncio.sleep(0)  # the failing job has failed
    async with asyncio.timeout(2.0):
        await cancel_until_done([failing, waiting], time.monotonic() + 1.0)
    assert isinstance(failing.exception(), RuntimeError)
    assert waiting.cancelled()


async def _slow_to_stop(stopping: asyncio.Event) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        stopping.set()
        await asyncio.sleep(0.05)  # its cleanup takes a moment


async def test_cancel_and_wait_never_swallows_the_callers_own_cancellation() -> None:
    stopping = asyncio.Event()
    helper = asyncio.create_task(_slow_to_stop(stopping))
    await asyncio.sleep(0)

    async def stopper() -> str:
        await cancel_and_wait(helper)
        await asyncio.sleep(10)  # with the cancellation swallowed, this would run on
        return "carried on"

    caller = asyncio.create_task(stopper())
    await stopping.wait()
    caller.cancel()  # e.g. the stop's own deadline
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(2.0):
            await caller
    await asyncio.wait({helper})
    assert helper.cancelled()


async def test_cancel_and_wait_returns_once_the_task_has_ended() -> None:
    stopping = asyncio.Event()
    helper = asyncio.create_task(_slow_to_stop(stopping))
    await asyncio.sleep(0)
    await cancel_and_wait(helper)
    assert helper.done()


def test_service_code_never_suppresses_a_cancellation() -> None:
    """``suppress(CancelledError)`` around an await also swallows the caller's own
    cancellation: a stop then never reaches the task that was asked to end."""
    services = Path(__file__).parents[3] / "services" / "driftline"
    found = [
        f"{path.relative_to(services)}:{number}"
        for path in sorted(services.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "suppress(asyncio.CancelledError)" in line or "suppress(CancelledError)" in line
    ]
    assert found == []
