"""Reproducing a recorded run: the same bytes (sha256 verified), spec, seed and trainer,
trained by the same code path as the worker; metrics compared for exact equality.

A reproduction stores no artifact, records no run and emits no event: it only answers
whether the recorded metrics come out again.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from driftline.runtime.errors import is_transient
from driftline.runtime.storage import ArtifactStore
from driftline.runtime.storage.errors import IntegrityError, StorageError
from driftline.training.adapters.datasets import fetch_window
from driftline.training.adapters.production import LABELLED_ROWS
from driftline.training.lineage import package_versions
from driftline.training.pool import TrainingPool
from driftline.training.records import RunRecord
from driftline.training.settings import TrainingSection
from driftline_contracts.modelspec import ModelSpec, spec_hash
from driftline_contracts.values import DatasetRef


class ReproductionError(Exception):
    """A run that cannot be reproduced; ``code`` says why (e.g. ``dataset_changed``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class MetricCheck(BaseModel):
    """One metric of the recorded run next to its reproduced value."""

    name: str = Field(description="Metric name.")
    recorded: float | None = Field(description="Value the run recorded.")
    reproduced: float | None = Field(description="Value the reproduction computed.")
    match: bool = Field(description="Whether both are present and exactly equal.")


class Reproduction(BaseModel):
    """The outcome of retraining a run from its recorded lineage."""

    run_id: str = Field(description="Run reproduced.")
    model: str = Field(description="Model of the run.")
    dataset: DatasetRef = Field(description="Dataset version retrained on; its sha256 verified.")
    spec_hash: str = Field(description="Spec hash of the run; the recorded spec hashes to it.")
    seed: int = Field(description="Seed of the split and the estimator.")
    trainer: str = Field(description="Estimator or user function of the spec.")
    match: bool = Field(description="Whether every metric came out exactly equal.")
    metrics: list[MetricCheck] = Field(description="Recorded and reproduced value per metric.")
    environment: dict[str, list[str | None]] = Field(
        default_factory=dict,
        description="Packages whose version differs: name → [recorded, now].",
    )
    duration_s: float = Field(description="Wall-clock time of the reproduction.")


def compare_metrics(recorded: dict[str, float], reproduced: dict[str, float]) -> list[MetricCheck]:
    """Every metric of either side, matched by exact equality (no tolerance)."""
    names = sorted(recorded.keys() | reproduced.keys())
    return [
        MetricCheck(
            name=name,
            recorded=recorded.get(name),
            reproduced=reproduced.get(name),
            match=name in recorded and recorded.get(name) == reproduced.get(name),
        )
        for name in names
    ]


def environment_changes(recorded: dict[str, Any], now: dict[str, str]) -> dict[str, list]:
    """Package versions that differ between the run's lineage and this process."""
    before: dict[str, Any] = recorded.get("packages") or {}
    return {
        name: [before.get(name), now.get(name)]
        for name in sorted(before.keys() | now.keys())
        if before.get(name) != now.get(name)
    }


def checked_spec(record: RunRecord, document: dict[str, Any] | None) -> ModelSpec:
    """The run's recorded spec, refused unless it hashes to the run's spec hash."""
    if record.status != "succeeded":
        raise ReproductionError("not_reproducible", f"run {record.run_id} failed: no metrics")
    if document is None:
        raise ReproductionError("not_reproducible", f"no spec recorded for {record.run_id}")
    spec = ModelSpec.model_validate(document)
    digest = spec_hash(spec)
    if digest != record.spec_hash:
        message = f"recorded spec hashes to {digest}, the run names {record.spec_hash}"
        raise ReproductionError("spec_changed", message)
    return spec


def window_of(record: RunRecord) -> list[DatasetRef]:
    """The dataset versions the run read (its lineage), else its one dataset (older runs)."""
    found = record.lineage.get("datasets")
    if not found:
        return [record.dataset]
    return [DatasetRef.model_validate(v) for v in found]


async def _labelled_rows(store: ArtifactStore, record: RunRecord, folder: Path) -> str | None:
    """The labelled production rows the run added (sha256 verified), as a local CSV path."""
    ref = record.artifacts.get(LABELLED_ROWS)
    if ref is None:
        return None
    path = folder / LABELLED_ROWS
    await store.download(ref.uri, path, sha256=ref.sha256)
    return str(path)


async def reproduce_run(
    record: RunRecord,
    document: dict[str, Any] | None,
    *,
    store: ArtifactStore,
    pool: TrainingPool,
    settings: TrainingSection,
) -> Reproduction:
    """Retrain ``record`` on its verified dataset with its spec; compare the metrics."""
    spec = checked_spec(record, document)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        try:
            files = await fetch_window(store, window_of(record), Path(folder))
            labelled = await _labelled_rows(store, record, Path(folder))
        except IntegrityError as exc:
            raise ReproductionError("dataset_changed", str(exc)) from exc
        except StorageError as exc:
            if is_transient(exc):
                raise
            raise ReproductionError("data_unavailable", f"{type(exc).__name__}: {exc}") from exc
        output = await pool.train(
            files,
            record.dataset.format,
            spec.model_dump(mode="json"),
            settings.max_rows,
            settings.timeout_s,
            labelled,
        )
    if output.failure is not None:
        code, message, _ = output.failure
        raise ReproductionError("training_failed", f"{code}: {message}")
    checks = compare_metrics(record.metrics, output.metrics)
    return Reproduction(
        run_id=record.run_id,
        model=record.model,
        dataset=record.dataset,
        spec_hash=record.spec_hash,
        seed=spec.split.seed,
        trainer=spec.trainer.estimator or spec.trainer.function or "",
        match=bool(checks) and all(c.match for c in checks),
        metrics=checks,
        environment=environment_changes(record.lineage, package_versions()),
        duration_s=time.perf_counter() - started,
    )
