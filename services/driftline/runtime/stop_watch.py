"""A service's stop within its grace period, and what it waits on when it takes longer.

A stop that never returns is the worst kind of shutdown failure: the process is killed by
its supervisor with nothing in the log. Background jobs are cancelled again past the grace
period (a library may swallow one cancellation), and the watch names the stage the stop is
in and, for every task still running on the event loop, the line it is suspended at.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from driftline.runtime.logging import get_logger

log = get_logger(__name__)


def _await_chain(task: asyncio.Task[object]) -> list[FrameType]:
    """The frames of the coroutines ``task`` awaits through, outermost first."""
    frames: list[FrameType] = []
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is None:
            break
        frames.append(frame)
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return frames


def suspended_at(task: asyncio.Task[object]) -> str:
    """``name: file:line in function (via outer > … > inner)``: where ``task`` is suspended
    and the coroutines it awaits through."""
    frames = _await_chain(task)
    if not frames:
        return f"{task.get_name()}: (not started or finishing)"
    inner = frames[-1]
    where = f"{inner.f_code.co_filename}:{inner.f_lineno} in {inner.f_code.co_name}"
    via = " > ".join(f.f_code.co_name for f in frames)
    return f"{task.get_name()}: {where} (via {via})"


def running_tasks(exclude: asyncio.Task[object] | None = None) -> list[str]:
    """Where each unfinished task of the running loop is suspended, sorted by task name."""
    tasks = [t for t in asyncio.all_tasks() if t is not exclude and not t.done()]
    return [suspended_at(t) for t in sorted(tasks, key=lambda t: t.get_name())]


async def watch_stop(
    stage: Callable[[], str], deadline: float, *, every_s: float = 30.0, margin_s: float = 5.0
) -> None:
    """From ``margin_s`` past ``deadline`` (``time.monotonic()``), log every ``every_s`` the
    stage ``stage()`` names and where every other task waits; runs until cancelled."""
    await asyncio.sleep(max(0.0, deadline + margin_s - time.monotonic()))
    me = asyncio.current_task()
    while True:
        log.warning(
            "service stop is taking longer than its grace period",
            stage=stage(),
            overdue_s=round(time.monotonic() - deadline, 1),
            waiting=running_tasks(exclude=me),
        )
        await asyncio.sleep(every_s)


async def cancel_until_done(
    tasks: list[asyncio.Task[None]], deadline: float, *, every_s: float = 1.0
) -> None:
    """Cancel ``tasks`` and wait for them; from ``every_s`` past ``deadline``
    (``time.monotonic()``; a job cutting its own work off at the deadline goes first), cancel
    the ones still running again every ``every_s``: library code that swallows one
    cancellation (an ``except CancelledError`` around a cleanup) must not keep a job, and
    the stop, alive. Their exceptions are retrieved, not raised."""
    for task in tasks:
        task.cancel()
    pending = set(tasks)
    while pending:
        wait_s = max(every_s, deadline + every_s - time.monotonic())
        done, pending = await asyncio.wait(pending, timeout=wait_s)
        for task in done:
            if not task.cancelled():
                task.exception()  # retrieved: a job's last failure was logged by the job
        for task in pending:
            task.cancel()


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and return once it has ended. Unlike ``task.cancel()`` followed by
    ``await task`` with the cancellation error suppressed, a cancellation of the caller while it
    waits is not swallowed. The task's own failure, if any, is retrieved, not raised."""
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled():
        task.exception()
