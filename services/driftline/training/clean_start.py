"""Start multiprocessing's forkserver and resource tracker without the service's secrets.

Both are new Python processes that would inherit the service's environment (database URL
with its password, S3 keys, tokens), and every training process is forked from the
forkserver: its memory and ``/proc/<pid>/environ`` would hold them too, whatever it deletes
from ``os.environ``. So they are started through a two-line shell launcher that hands the
interpreter only ``KEPT_VARIABLES``: nothing secret ever enters them or their children.
"""

from __future__ import annotations

import hashlib
import multiprocessing.forkserver
import multiprocessing.spawn
import os
import shlex
import shutil
import stat
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

KEPT_VARIABLES = frozenset({
    "PATH", "LANG", "LANGUAGE", "TZ", "PYTHONPATH", "PYTHONHASHSEED", "VIRTUAL_ENV",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS", "DRIFTLINE_LOG_LEVEL", "DRIFTLINE_LOG_FORMAT",
})  # fmt: skip
"""Environment variables training processes keep (plus ``LC_*``): none carries a secret."""

_lock = threading.Lock()


class LauncherFolderError(Exception):
    """The launcher's folder exists but is not this user's private folder."""


def kept_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables of ``environ`` a training process may see."""
    return {k: v for k, v in environ.items() if k in KEPT_VARIABLES or k.startswith("LC_")}


def launcher_script(python: str, environ: Mapping[str, str]) -> str:
    """A shell script that runs ``python`` with its arguments and only ``environ``."""
    env = shutil.which("env") or "/usr/bin/env"
    pairs = " ".join(shlex.quote(f"{k}={v}") for k, v in sorted(environ.items()))
    return f'#!/bin/sh\nexec {shlex.quote(env)} -i {pairs} {shlex.quote(python)} "$@"\n'


def _private_folder() -> Path:
    """``<tmp>/driftline-training-<uid>``, refusing one someone else made or opened up."""
    folder = Path(tempfile.gettempdir()) / f"driftline-training-{os.geteuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    seen = folder.lstat()
    if not stat.S_ISDIR(seen.st_mode) or seen.st_uid != os.geteuid() or seen.st_mode & 0o077:
        raise LauncherFolderError(f"{folder} is not a private folder of this user")
    return folder


def write_launcher(script: str) -> Path:
    """The launcher file for ``script`` (named by its content, so written once per host)."""
    path = _private_folder() / f"python-{hashlib.sha256(script.encode()).hexdigest()[:16]}"
    if not path.exists():
        scratch = path.with_suffix(f".{os.getpid()}")
        scratch.write_text(script)
        scratch.chmod(0o700)
        scratch.replace(path)
    return path


def start_helpers(environ: Mapping[str, str] | None = None) -> None:
    """Make sure the forkserver and resource tracker run, started with a minimal environment
    if they are not running yet (a no-op when they are)."""
    kept = kept_environment(os.environ if environ is None else environ)
    launcher = write_launcher(launcher_script(sys.executable, kept))
    with _lock:
        # Only multiprocessing reads the executable, and only while it starts a process.
        original = multiprocessing.spawn.get_executable()
        multiprocessing.spawn.set_executable(str(launcher))
        try:
            multiprocessing.forkserver.ensure_running()
        finally:
            multiprocessing.spawn.set_executable(original)
