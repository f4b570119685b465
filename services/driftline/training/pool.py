"""Training processes: CPU-bound fits run off the event loop, bounded in time.

Each run gets a fresh single-process ``ProcessPoolExecutor`` (at most ``max_workers`` at
once): a run that times out or dies is killed without touching the others, and the memory a
fit leaves behind is returned to the system when its process exits.
"""

from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from driftline.runtime.logging import get_logger
from driftline.training.runner import RunOutput, run_training

log = get_logger(__name__)
PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Initializer of a training process: it is killed when the service process dies.

    Without it a SIGKILLed service leaves its fit running as an orphan, which keeps the CPU
    busy while the restarted service trains the same job again.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _kill(executor: ProcessPoolExecutor) -> None:
    """Stop ``executor`` now; a running fit cannot be cancelled any other way."""
    # The executor has no public way to kill its processes.
    handles = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in handles:
        if process.is_alive():
            process.kill()


class TrainingPool:
    """Runs ``run_training`` in separate processes, ``max_workers`` at a time."""

    def __init__(self, max_workers: int) -> None:
        self._slots = asyncio.Semaphore(max_workers)
        # spawn, not fork: the parent holds an event loop, sockets and threads.
        self._context = multiprocessing.get_context("spawn")

    async def train(
        self,
        data_path: str,
        data_format: str,
        spec: dict[str, Any],
        max_rows: int,
        timeout_s: float,
        labelled_path: str | None = None,
    ) -> RunOutput:
        """Train in a process; a timeout or a dead process becomes a typed failure."""
        async with self._slots:
            executor = ProcessPoolExecutor(
                1, mp_context=self._context, initializer=die_with_parent, initargs=(os.getpid(),)
            )
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(
                executor, run_training, data_path, data_format, spec, max_rows, labelled_path
            )
            try:
                output = await asyncio.wait_for(future, timeout_s)
            except TimeoutError:
                message = f"training took longer than {timeout_s:g} s"
                return RunOutput(failure=("timeout", message, None))
            except BrokenProcessPool:
                message = "the training process died (out of memory or killed)"
                return RunOutput(failure=("resource_limit", message, None))
            finally:
                _kill(executor)
            return output
