"""How the supervisor sees one server: build its command, probe it, provision it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from driftline.stack.state import StackState


@dataclass(frozen=True)
class Launch:
    """A ready-to-spawn command line."""

    cmd: list[str]
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    cwd: Path | None = None


@dataclass(frozen=True)
class ServerSpec:
    """One server of the stack; all callables take the home folder and the current state."""

    name: str
    stop_signal: int
    start_timeout: float
    prepare: Callable[[Path, StackState], Launch]
    probe: Callable[[Path, StackState], bool]
    provision: Callable[[Path, StackState], None]
    url: Callable[[StackState], str]

    def log_path(self, home: Path) -> Path:
        """``<home>/logs/<name>.log``."""
        return home / "logs" / f"{self.name}.log"
