"""A logged prediction as it is read back: by the batch sender, the canary judge, the shadow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class LoggedRow:
    """One logged prediction as the batcher and the judge read it."""

    id: int
    request_id: str
    model: str
    version: int
    variant: str
    features: dict[str, Any]
    prediction: Any
    score: float | None
    latency_ms: float
    error: str | None
    created_at: datetime
    label: Any = None
    labelled: bool = False
    flags: list[dict[str, str]] | None = None
    """``RowFlag`` per value its version never saw in training; None: none."""
