"""In-memory stores and a monitored model for workflow tests without PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from driftline.monitoring.performance import PerformanceResult
from driftline.monitoring.records import BufferedRow, MonitoredModel, TrainedOn, WindowRecord
from driftline.monitoring.reference import MonitoringDeps
from driftline.monitoring.settings import MonitoringSection
from driftline.monitoring.windowing import cells_of
from driftline.runtime.storage.local import LocalArtifactStore
from driftline.stats.profile import profile_frame
from driftline_contracts.events.monitoring import PredictionRow
from driftline_contracts.modelspec import DriftPolicy
from driftline_contracts.values import ArtifactRef, DatasetRef, Scalar
from tests.unit.monitoring.helpers import SHA, FakeEpisodes

DATASET = DatasetRef(
    name="customers", version=1, uri="s3://b/customers.csv", sha256=SHA, format="csv"
)
PROFILE = ArtifactRef(
    uri="s3://b/profile.json", sha256=SHA, media_type="application/json", size_bytes=1
)


@dataclass
class FakeRefs:
    """One model, its champion's training data and metrics."""

    model_: MonitoredModel | None
    metrics: dict[str, float] = field(default_factory=lambda: {"accuracy": 0.9})

    async def model(self, name: str) -> MonitoredModel | None:
        return self.model_

    async def trained_on(self, name: str, version: int) -> TrainedOn | None:
        return TrainedOn(DATASET, self.metrics)

    async def profile(self, dataset: str, sha256: str | None = None):
        return DATASET, PROFILE


@dataclass
class _Row:
    row: BufferedRow
    window_seq: int | None = None


class FakeWindows(FakeEpisodes):
    """The prediction buffer, labels and evaluated windows in memory."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[_Row] = []
        self.label_of: dict[str, Scalar] = {}
        self.records: dict[int, WindowRecord] = {}

    async def append(
        self, model: str, version: int, rows: Sequence[PredictionRow],
        source: ArtifactRef | None = None,
    ) -> None:  # fmt: skip
        for r in rows:
            features = dict(r.features) if source is None else None  # by reference, as stored
            flags = [f.model_dump() for f in r.flags] if r.flags else None
            row = BufferedRow(len(self.rows) + 1, version, r.request_id, r.time, features,
                              r.prediction, source, flags)  # fmt: skip
            self.rows.append(_Row(row))

    def _pending(self) -> list[_Row]:
        return [r for r in self.rows if r.window_seq is None]

    async def pending(self, model: str) -> int:
        return len(self._pending())

    async def take(self, model: str, size: int) -> list[BufferedRow]:
        return [r.row for r in self._pending()[:size]]

    async def pending_cells(self, model: str, duration: timedelta) -> list[tuple[datetime, int]]:
        return cells_of((r.row.time for r in self._pending()), duration)

    async def take_until(self, model: str, end: datetime) -> list[BufferedRow]:
        found = [r.row for r in self._pending() if r.row.time < end]
        return sorted(found, key=lambda row: (row.time, row.id))

    async def last_end(self, model: str) -> datetime | None:
        return self.records[max(self.records)].end if self.records else None

    async def trim_pending(self, model: str, keep: int) -> int:
        pending = self._pending()
        drop = {id(r) for r in pending[: max(len(pending) - keep, 0)]}
        self.rows = [r for r in self.rows if id(r) not in drop]
        return len(drop)

    async def save_labels(self, model: str, labels: dict[str, Scalar], at: datetime) -> None:
        self.label_of.update(labels)

    async def labels(self, model: str, request_ids: Sequence[str]) -> dict[str, Scalar]:
        return {r: self.label_of[r] for r in request_ids if r in self.label_of}

    async def next_seq(self, model: str) -> int:
        return max(self.records, default=0) + 1

    async def save_window(self, record: WindowRecord, row_ids: Sequence[int]) -> None:
        self.records[record.seq] = record
        for r in self.rows:
            if r.row.id in set(row_ids):
                r.window_seq = record.seq

    async def prune_evaluated(self, model: str, keep_windows: int) -> int:
        kept = sorted(self.records, reverse=True)[:keep_windows]
        gone = [r for r in self.rows if r.window_seq is not None and r.window_seq < min(kept)]
        for row in gone:
            self.label_of.pop(row.row.request_id, None)
        self.rows = [r for r in self.rows if r not in gone]
        return len(gone)

    async def windows_holding(
        self, model: str, version: int, request_ids: Sequence[str]
    ) -> list[WindowRecord]:
        seqs = {r.window_seq for r in self.rows if r.row.request_id in set(request_ids)}
        return [w for s, w in sorted(self.records.items()) if s in seqs and w.version == version]

    async def window_predictions(self, model: str, seq: int) -> list[tuple[str, Scalar]]:
        return [(r.row.request_id, r.row.prediction) for r in self.rows if r.window_seq == seq]

    async def set_performance(self, model: str, seq: int, result: PerformanceResult) -> None:
        self.records[seq] = replace(self.records[seq], performance=result.model_dump(mode="json"))


def monitored(policy: DriftPolicy, champion: int | None = 1) -> MonitoredModel:
    """A classification model on ``label`` with ``policy``."""
    return MonitoredModel("churn", "customers", "classification", "label", policy, champion)


def deps_for(reference: pd.DataFrame, root: Path, **settings: object) -> MonitoringDeps:
    """Local report store, settings, and the reference profile already in the cache."""
    deps = MonitoringDeps(LocalArtifactStore(root), MonitoringSection(**settings))
    deps.profiles[SHA] = profile_frame(reference, sha256=SHA)
    return deps
