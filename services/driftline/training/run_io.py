"""What crosses between the training service and a training process: the run's inputs and
its output. Kept free of pandas and scikit-learn, so the service can start without them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Sources = str | Sequence[tuple[str, str]]
"""One data file, or (path, format) of each dataset version in the window, oldest first."""


@dataclass(frozen=True)
class ChampionInput:
    """The champion the worker found: its verified artifact on disk, or why there is none."""

    model: str
    version: int | None = None
    path: str | None = None
    problem: str | None = None
    """Why ``path`` is None although a champion exists (e.g. its artifact is gone)."""


@dataclass(frozen=True)
class RunOutput:
    """What a training process hands back: artifacts and facts, or a typed failure."""

    failure: tuple[str, str, str | None] | None = None
    model_bytes: bytes = b""
    documents: dict[str, bytes] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    train_rows: int = 0
    holdout_rows: int = 0
    duration_s: float = 0.0
    champion_comparison: dict[str, Any] | None = None
    signature: dict[str, Any] | None = None
    window_rows: int = 0
    """Rows of the dataset versions after deduplication and the row budget."""
    labelled_rows: int = 0
    """Labelled production rows appended to them."""
