"""Injected crashes for the commit-point scenarios (6 and 12): a simulated process death at a
named point, with a seeded probability and a budget per point."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field


class InjectedCrash(BaseException):
    """A simulated process death: nothing in the code under test may catch it."""


@dataclass
class FaultPlan:
    """Crash at a named point with probability ``p`` while that point's budget lasts."""

    budgets: dict[str, int]
    p: float = 0.5
    rng: random.Random = field(default_factory=lambda: random.Random(6))
    crashes: Counter[str] = field(default_factory=Counter)

    def __call__(self, name: str) -> None:
        if self.budgets.get(name, 0) > self.crashes[name] and self.rng.random() < self.p:
            self.crashes[name] += 1
            raise InjectedCrash(name)

    @property
    def exhausted(self) -> bool:
        """Whether every point crashed its full budget."""
        return all(self.crashes[name] == n for name, n in self.budgets.items())
