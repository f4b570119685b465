"""Process and port helpers: spawn detached servers, probe ports, stop with a grace period."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import re
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard, TypeVar

import psutil

from driftline.stack.errors import ServerExitedError, StackError

T = TypeVar("T")
HOST = "127.0.0.1"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class ProcRef:
    """A process we started: pid plus its start time, so a recycled pid is not mistaken for it."""

    pid: int
    create_time: float


def free_port(exclude: set[int] | None = None) -> int:
    """Pick a free loopback port with a bind-to-port-0 probe, skipping ``exclude``."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = sock.getsockname()[1]
        if port not in (exclude or set()):
            return port
    raise StackError("could not find a free loopback port")


def port_is_free(port: int) -> bool:
    """True when nothing listens on ``port`` (binds like a server would, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def port_answers(port: int, timeout: float = 0.5) -> bool:
    """True when a TCP connection to ``port`` succeeds."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def spawn(
    cmd: list[str],
    log_path: Path,
    env: Mapping[str, str] | None = None,
    user: str | None = None,
    cwd: Path | None = None,
) -> ProcRef:
    """Start ``cmd`` in its own session with output appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {cmd[0]}\n".encode())
        log.flush()
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                **as_user(user),
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as exc:
            raise StackError(f"cannot run {cmd[0]}: {exc}") from exc
    _children[proc.pid] = proc
    return ProcRef(proc.pid, create_time(proc.pid))


def as_user(user: str | None) -> dict[str, Any]:
    """Popen arguments that drop to ``user`` with its own group only (not root's groups)."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def create_time(pid: int) -> float:
    """Start time of ``pid`` (0.0 when it is already gone)."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return 0.0


def is_alive(ref: ProcRef | None) -> TypeGuard[ProcRef]:
    """True when ``ref`` still names the same running (non-zombie) process."""
    if ref is None:
        return False
    try:
        proc = psutil.Process(ref.pid)
        if ref.create_time and abs(proc.create_time() - ref.create_time) > 1.0:
            return False
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def stop(ref: ProcRef | None, sig: int = signal.SIGTERM, grace: float = 10.0) -> None:
    """Send ``sig``, wait up to ``grace`` seconds, then SIGKILL; reap our own children."""
    if ref is None or not is_alive(ref):
        _reap(ref)
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(ref.pid, sig)
    if not _wait_gone(ref, grace):
        with contextlib.suppress(ProcessLookupError):
            os.kill(ref.pid, signal.SIGKILL)
        if not _wait_gone(ref, 5.0):
            raise StackError(f"process {ref.pid} survived SIGKILL")
    _reap(ref)


def _wait_gone(ref: ProcRef, timeout: float) -> bool:
    """Wait until ``ref`` has exited; True when it did within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(ref)
        if not is_alive(ref):
            return True
        time.sleep(0.05)
    return False


def exit_status(ref: ProcRef, wait_s: float = 0.0) -> int | None:
    """Return code of a child we spawned that has exited (negative: killed by that signal).

    Waits up to ``wait_s`` for it (a dying process is not reapable at once). ``None`` while
    it runs, or when it is not our child (its status cannot be known).
    """
    proc = _children.get(ref.pid)
    if proc is None:
        return None
    try:
        code = proc.wait(timeout=wait_s) if wait_s > 0 else proc.poll()
    except subprocess.TimeoutExpired:
        return None
    if code is not None:
        _children.pop(proc.pid, None)
    return code


def _reap(ref: ProcRef | None) -> None:
    """Collect the exit status of a child we spawned so it does not linger as a zombie."""
    proc = _children.get(ref.pid) if ref else None
    if proc is not None and proc.poll() is not None:
        _children.pop(proc.pid, None)


def tail(path: Path, lines: int = 12, width: int = 400) -> str:
    """Last ``lines`` lines of a log file without colour codes, each cut to ``width``."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    last = _ANSI.sub("", text).rstrip().splitlines()[-lines:]
    return "\n".join(line if len(line) <= width else line[:width] + " …" for line in last)


def run_sync(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine from sync code, in a worker thread when a loop already runs here."""

    async def main() -> T:
        return await factory()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


def wait_ready(
    name: str, ref: ProcRef, probe: Callable[[], bool], timeout: float, log_path: Path
) -> None:
    """Poll ``probe`` until it answers; fail clearly when the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while not probe():
        if not is_alive(ref):
            _reap(ref)
            last = tail(log_path)
            raise ServerExitedError(
                f"{name} exited during start-up; last lines of {log_path}:\n{last}", last
            )
        if time.monotonic() > deadline:
            raise StackError(
                f"{name} did not become ready within {timeout:.0f}s; "
                f"last lines of {log_path}:\n{tail(log_path)}"
            )
        time.sleep(0.1)


def stop_all(refs: list[ProcRef], grace: float = 10.0) -> None:
    """SIGTERM every process at once, SIGKILL whatever is left after ``grace`` seconds."""
    live = [ref for ref in refs if is_alive(ref)]
    for ref in live:
        with contextlib.suppress(ProcessLookupError):
            os.kill(ref.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for ref in live:
        if not _wait_gone(ref, max(0.0, deadline - time.monotonic())):
            stop(ref, signal.SIGKILL, grace=0)
