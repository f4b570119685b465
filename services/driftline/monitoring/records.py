"""What monitoring remembers per model: spec policy, versions, windows and drift episodes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from driftline_contracts.modelspec import DriftPolicy
from driftline_contracts.values import ArtifactRef, DatasetRef, Scalar


@dataclass(frozen=True)
class MonitoredModel:
    """A model's spec facts and its current champion version (None before promotion)."""

    model: str
    dataset: str
    task: str
    target: str
    policy: DriftPolicy
    champion: int | None = None


@dataclass(frozen=True)
class TrainedOn:
    """The dataset a registered version trained on and its holdout metrics."""

    dataset: DatasetRef
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class BufferedRow:
    """One champion prediction waiting in the open window."""

    id: int
    version: int
    request_id: str
    time: datetime
    features: dict[str, Scalar] | None
    """None while the row's features are only in its ``source`` object."""
    prediction: Scalar
    source: ArtifactRef | None = None
    """The prediction log's Parquet object holding the features (Kafka prediction log)."""
    flags: list[dict[str, str]] | None = None
    """``RowFlag`` (feature, code) per value its version never saw in training; None: none."""


@dataclass(frozen=True)
class Episode:
    """An open drift episode."""

    drift_id: str
    version: int
    detected_at: datetime
    clean_streak: int
    performance: bool = False  # opened or held by a performance drop: recovery needs labels
    opened_seq: int | None = None  # the window that opened it


@dataclass(frozen=True)
class WindowRecord:
    """One evaluated window, as listed by the API."""

    model: str
    seq: int
    window_id: str
    version: int
    start: datetime
    end: datetime
    rows: int
    drifted: bool
    drift_share: float
    severity: str
    transition: str
    drift_id: str | None
    report: ArtifactRef
    report_html: ArtifactRef
    performance: dict | None = None  # PerformanceResult, re-judged when late labels arrive
