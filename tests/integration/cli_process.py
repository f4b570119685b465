"""Run the ``driftline`` command line in its own process, as a user does.

Typer's in-process runner swaps ``sys.stdout`` for the whole process while a command runs, so
the log lines of services running in the test's event loop land in the command's output (a
``--json`` answer then fails to parse whenever a background job logs at that moment).
"""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(*args: str, timeout_s: float = 300.0) -> subprocess.CompletedProcess[str]:
    """The finished command: exit code, its stdout alone, and its stderr."""
    env = {**os.environ, "COLUMNS": "220"}  # wide, so names are not folded across lines
    return subprocess.run(
        [sys.executable, "-m", "driftline", *args],
        capture_output=True, text=True, env=env, timeout=timeout_s, check=False,
    )  # fmt: skip
