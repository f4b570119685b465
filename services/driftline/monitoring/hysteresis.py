"""Drift episodes with hysteresis: detected once, resolved after N consecutive clean windows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Transition = Literal["detected", "continuing", "recovering", "resolved", "awaiting_labels", "quiet"]


@dataclass(frozen=True)
class EpisodeStep:
    """What one evaluated window does to a model's drift episode."""

    transition: Transition
    clean_streak: int

    @property
    def is_open(self) -> bool:
        """Whether an episode is open after this window."""
        return self.transition in ("detected", "continuing", "recovering", "awaiting_labels")


def advance(
    *, is_open: bool, clean_streak: int, drifted: bool | None, resolve_after: int
) -> EpisodeStep:
    """Next episode state: open on drift, stay open while drifting, close after clean windows.

    ``drifted=None`` means the window is no evidence either way (a performance episode and a
    window whose labels have not arrived): the episode and its clean streak stay as they are.
    """
    if not is_open:
        return EpisodeStep("detected" if drifted else "quiet", 0)
    if drifted is None:
        return EpisodeStep("awaiting_labels", clean_streak)
    if drifted:
        return EpisodeStep("continuing", 0)
    streak = clean_streak + 1
    return EpisodeStep("resolved" if streak >= resolve_after else "recovering", streak)
