"""When ``driftline up`` starts a crashed service again: systemd's ``Restart=on-failure``.

Pure decisions, no processes or clocks: exponential back-off with a cap, and a burst limit
(``StartLimitBurst`` within ``StartLimitIntervalSec``) past which the service is given up on.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from dataclasses import dataclass

CLEAN_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})
"""Deaths someone asked for (``kill PID``, Ctrl-C): like exit code 0, not a failure."""


@dataclass(frozen=True)
class RestartPolicy:
    """How crashed services are restarted; ``burst`` restarts within ``window_s`` at most."""

    enabled: bool = True
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    burst: int = 5
    window_s: float = 120.0

    def __post_init__(self) -> None:
        if self.backoff_s <= 0 or self.max_backoff_s < self.backoff_s:
            raise ValueError("need 0 < backoff_s <= max_backoff_s")
        if self.burst < 1 or self.window_s <= 0:
            raise ValueError("need burst >= 1 and window_s > 0")


@dataclass(frozen=True)
class Restart:
    """Start the service again after ``delay_s``; ``attempt`` counts crashes in the window."""

    attempt: int
    delay_s: float


@dataclass(frozen=True)
class GiveUp:
    """Too many crashes in the window: leave the service down."""

    crashes: int


def is_failure(returncode: int | None) -> bool:
    """A crash to restart: any exit but code 0 or SIGTERM/SIGINT (``None``: status unknown)."""
    if returncode is None:
        return True
    if returncode < 0:
        return -returncode not in CLEAN_SIGNALS
    return returncode != 0


def next_restart(policy: RestartPolicy, crashes: Sequence[float], now: float) -> Restart | GiveUp:
    """Decide after a crash at ``now``; ``crashes`` are the times of earlier ones.

    The delay doubles with each crash inside the window (1, 2, 4 … s up to the cap), and
    resets once a service has run a whole window without crashing.
    """
    recent = 1 + sum(1 for t in crashes if now - t < policy.window_s)
    if recent > policy.burst:
        return GiveUp(recent)
    delay = min(policy.backoff_s * 2 ** (recent - 1), policy.max_backoff_s)
    return Restart(recent, delay)


def describe_exit(returncode: int | None) -> str:
    """``exit code 3``, ``killed by SIGKILL`` or ``exit status unknown``."""
    if returncode is None:
        return "exit status unknown"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    return f"exit code {returncode}"
