"""What the service processes did while something was broken: their log lines and CPU time.

An outage that is waited out properly shows a few warnings per retrying loop, spaced by a
growing back-off, and almost no CPU; a hot loop shows thousands of lines or a busy core.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from driftline.stack.services import ServiceProcess

FAILED_ATTEMPT_LEVELS = ("warning", "error")
SPAWN_MARK = b"--- "
"""How ``driftline.stack.procs.spawn`` marks each start of a process in its log."""


def _read(path: Path, start: int, end: int | None) -> list[bytes]:
    with path.open("rb") as log:
        log.seek(start)
        chunk = log.read() if end is None else log.read(max(0, end - start))
    return chunk.splitlines()


def log_lines(path: Path, start: int = 0, end: int | None = None) -> list[dict[str, Any]]:
    """The JSON log lines of ``path`` between byte offsets ``start`` and ``end``."""
    lines = []
    for raw in _read(path, start, end):
        if raw.startswith(b"{"):
            try:
                lines.append(json.loads(raw))
            except ValueError:
                continue  # a line cut by a kill
    return lines


def failed_attempts(path: Path, start: int = 0) -> Counter[str]:
    """Warning and error lines of ``path`` after ``start``, by what they say: the service's
    own (JSON, by ``event``) and its libraries' (plain text from stdlib logging, such as
    aiokafka's reconnect errors, by their text up to the first colon; FastStream's INFO
    lines about each message are left out)."""
    found: Counter[str] = Counter()
    for raw in _read(path, start, None):
        if raw.startswith(b"{"):
            with contextlib.suppress(ValueError):
                line = json.loads(raw)
                if line.get("level") in FAILED_ATTEMPT_LEVELS:
                    found[str(line.get("event"))] += 1
        elif raw.strip() and not raw.startswith(SPAWN_MARK) and b"INFO" not in raw[:40]:
            found[raw.decode(errors="replace").split(":", 1)[0][:80]] += 1
    return found


def log_size(path: Path) -> int:
    """Bytes in ``path`` so far (0 before the process wrote anything)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def cpu_seconds(process: ServiceProcess) -> float:
    """CPU time of the service process itself: its event loop, where a hot loop would spin
    (training fits run in child processes and are not counted)."""
    try:
        times = psutil.Process(process.ref.pid).cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return times.user + times.system


@dataclass(frozen=True)
class Watched:
    """The services' failed attempts and CPU use over one window."""

    seconds: float
    failed_attempts: Counter[str]
    """Warning and error log lines, by service and ``event`` text."""
    cpu_s: dict[str, float]
    """CPU seconds each service process used."""

    @property
    def attempts_per_s(self) -> float:
        return sum(self.failed_attempts.values()) / self.seconds

    @property
    def cpu_share(self) -> float:
        """CPU time the services used together, as a share of one core over the window."""
        return sum(self.cpu_s.values()) / self.seconds

    def figures(self, prefix: str) -> dict[str, Any]:
        """Table columns: failed attempts, their rate, CPU share, and the lines by kind."""
        return {
            f"{prefix} failed attempts": sum(self.failed_attempts.values()),
            f"{prefix} attempts/s": round(self.attempts_per_s, 2),
            f"{prefix} service CPU (% of a core)": round(100 * self.cpu_share, 1),
            f"{prefix} attempts by kind": dict(self.failed_attempts),
            f"{prefix} CPU s by service": {k: round(v, 2) for k, v in self.cpu_s.items()},
        }


class Watch:
    """Marks every service's log and CPU counter now; :meth:`stop` reads what came after."""

    def __init__(self, processes: Mapping[str, ServiceProcess]) -> None:
        self._processes = dict(processes)
        self._offsets = {k: log_size(p.log_path) for k, p in self._processes.items()}
        self._cpu = {k: cpu_seconds(p) for k, p in self._processes.items()}
        self._started = time.monotonic()

    def stop(self) -> Watched:
        """The failed attempts logged and the CPU time used since the watch began."""
        seconds = time.monotonic() - self._started
        failed: Counter[str] = Counter()
        for key, process in self._processes.items():
            for what, count in failed_attempts(process.log_path, self._offsets[key]).items():
                failed[f"{key}: {what}"] += count
        cpu = {k: cpu_seconds(p) - self._cpu[k] for k, p in self._processes.items()}
        return Watched(seconds, failed, cpu)
