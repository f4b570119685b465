"""``exit_status``: how a child we spawned ended, which decides whether it is restarted."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from driftline.stack.procs import ProcRef, exit_status, is_alive, spawn, stop
from driftline.stack.restarts import is_failure


def _sleeper(tmp_path: Path) -> ProcRef:
    return spawn([sys.executable, "-c", "import time; time.sleep(60)"], tmp_path / "child.log")


@pytest.mark.parametrize(("sig", "crash"), [(signal.SIGKILL, True), (signal.SIGTERM, False)])
def test_a_signalled_child_reports_the_signal(tmp_path: Path, sig: int, crash: bool) -> None:
    ref = _sleeper(tmp_path)
    try:
        assert exit_status(ref) is None  # still running
        os.kill(ref.pid, sig)
        while is_alive(ref):
            time.sleep(0.01)
        code = exit_status(ref, wait_s=5)
        assert code == -sig
        assert is_failure(code) is crash
    finally:
        stop(ref, grace=1)


def test_an_exit_code_is_reported(tmp_path: Path) -> None:
    ref = spawn([sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "child.log")
    assert exit_status(ref, wait_s=10) == 3


def test_a_process_we_did_not_spawn_has_no_known_status() -> None:
    assert exit_status(ProcRef(os.getpid(), 0.0)) is None
