"""Training processes: CPU-bound fits run off the event loop, bounded in time.

Each run gets a fresh single-process ``ProcessPoolExecutor`` (at most ``max_workers`` at
once): a run that times out or dies is killed without touching the others, and the memory a
fit leaves behind is returned to the system when its process exits.

The processes are forked from a forkserver that imported the training code (pandas,
scikit-learn, skops) once: a fresh process is then ready in milliseconds instead of the
second and more that starting Python and importing them again took for every run. The
forkserver is a clean process of its own (started like ``spawn``, no event loop, sockets or
threads of the service), so each run still starts from the same state.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import importlib
import multiprocessing
import os
import select
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from driftline.runtime.logging import get_logger
from driftline.runtime.trainer_policy import TrainerPolicy
from driftline.training.clean_start import start_helpers
from driftline.training.confinement import ProcessLimits, confine
from driftline.training.run_io import ChampionInput, RunOutput, Sources
from driftline.training.sandbox import ChildSandbox, RunFolder, make_undumpable, run_folder

log = get_logger(__name__)


RUN_TRAINING = "driftline.training.runner:run_training"
SCORE_SUBMISSION = "driftline.training.submissions:score_submission"
PRELOAD = [target.partition(":")[0] for target in (RUN_TRAINING, SCORE_SUBMISSION)]


def run_in_process(target: str, *args: Any, **kwargs: Any) -> RunOutput:
    """Call ``module:function`` in a training process, where the forkserver has imported it:
    the service itself never imports the training code (pandas, scikit-learn, SciPy, skops),
    seconds of its start-up."""
    module, _, name = target.partition(":")
    result: RunOutput = getattr(importlib.import_module(module), name)(*args, **kwargs)
    return result


def die_with_parent(service_pid: int) -> None:
    """Initializer of a training process: it exits the moment the service process dies.

    Without it a SIGKILLed service leaves its fit running as an orphan, which keeps the CPU
    busy while the restarted service trains the same job again. The process's parent is the
    forkserver, which outlives the service while any of its children lives (they hold its
    liveness pipe), so the process watches the service itself: a pidfd becomes readable when
    the service exits, and a daemon thread waiting on it ends the process.
    """
    try:
        watch = _pidfd_watch(service_pid) if hasattr(os, "pidfd_open") else _poll_watch
    except ProcessLookupError:  # the service died before we started
        os._exit(1)
    threading.Thread(target=watch, args=(service_pid,), daemon=True).start()


def start_training_process(
    service_pid: int, limits: ProcessLimits, sandbox: ChildSandbox | None = None
) -> None:
    """Initializer of a training process: exit with the service, enter its own folder (as
    another user when configured), run confined."""
    die_with_parent(service_pid)
    if sandbox is not None:
        sandbox.enter()
    confine(limits)


def _pidfd_watch(service_pid: int) -> Callable[[int], None]:
    watched = os.pidfd_open(service_pid)

    def exit_when_readable(_: int) -> None:
        select.select([watched], [], [])
        os._exit(1)

    return exit_when_readable


def _poll_watch(service_pid: int) -> None:
    """Where there are no pidfds (not Linux): look every half second."""
    while True:
        try:
            os.kill(service_pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass
        time.sleep(0.5)


def training_context() -> multiprocessing.context.BaseContext:
    """Forkserver with the training code preloaded where there is one, else spawn.

    Never fork from the service itself: it holds an event loop, sockets and threads.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


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

    def __init__(
        self, max_workers: int, policy: TrainerPolicy, limits: ProcessLimits | None = None
    ) -> None:
        self._slots = asyncio.Semaphore(max_workers)
        self._context = training_context()
        self._policy = policy  # pickled into every training process, which checks each spec
        self._limits = limits or ProcessLimits()

    async def warm(self) -> None:
        """Start the forkserver and its imports now, not when the first run needs it."""
        await asyncio.to_thread(self._start_helpers)

    def _start_helpers(self) -> None:
        """Hide this process from its user's other processes, then start the forkserver
        without the secrets of this process's environment (both no-ops once done)."""
        make_undumpable()
        if self._context.get_start_method() == "forkserver":
            start_helpers()

    async def train(
        self,
        data_path: Sources,
        data_format: str,
        spec: dict[str, Any],
        max_rows: int,
        timeout_s: float,
        labelled_path: str | None = None,
        champion: ChampionInput | None = None,
    ) -> RunOutput:
        """Train in a process; a timeout or a dead process becomes a typed failure."""
        with run_folder(self._limits.run_as) as folder:
            run = functools.partial(
                run_in_process,
                RUN_TRAINING,
                policy=self._policy,
                champion=_staged(champion, folder),
            )
            inputs = (folder.stage_sources(data_path), folder.stage(labelled_path))
            args = (inputs[0], data_format, spec, max_rows, inputs[1])
            return await self._confined(run, args, timeout_s, "training", folder)

    async def score(
        self,
        data_path: Sources,
        data_format: str,
        spec: dict[str, Any],
        max_rows: int,
        timeout_s: float,
        model_bytes: bytes,
        champion: ChampionInput | None = None,
    ) -> RunOutput:
        """Check and re-score a submitted model in a process, like a run: the submitted bytes
        are only ever loaded there, confined, with the safe loader."""
        with run_folder(self._limits.run_as) as folder:
            champion = _staged(champion, folder)
            run = functools.partial(run_in_process, SCORE_SUBMISSION, champion=champion)
            args = (folder.stage_sources(data_path), data_format, spec, max_rows, model_bytes)
            return await self._confined(run, args, timeout_s, "scoring", folder)

    async def _confined(
        self,
        run: Callable[..., RunOutput],
        args: tuple[Any, ...],
        timeout_s: float,
        what: str,
        folder: RunFolder,
    ) -> RunOutput:
        async with self._slots:
            self._start_helpers()  # again if the forkserver died
            executor = ProcessPoolExecutor(
                1,
                mp_context=self._context,
                initializer=start_training_process,
                initargs=(os.getpid(), self._limits, folder.child),
            )
            future = asyncio.get_running_loop().run_in_executor(executor, run, *args)
            try:
                async with asyncio.timeout(timeout_s):
                    output = await future
            except TimeoutError:
                message = f"{what} took longer than {timeout_s:g} s"
                return RunOutput(failure=("timeout", message, None))
            except BrokenProcessPool:
                message = f"the {what} process died (out of memory or killed)"
                return RunOutput(failure=("resource_limit", message, None))
            finally:
                _kill(executor)
            return output


def _staged(champion: ChampionInput | None, folder: RunFolder) -> ChampionInput | None:
    """``champion`` with its artifact where the training process can read it."""
    if champion is None or champion.path is None:
        return champion
    return dataclasses.replace(champion, path=folder.stage(champion.path))
