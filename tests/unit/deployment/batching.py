"""What the micro-batching tests share: a fitted model, requests, a recording predict, a
recording observer, and ``serve()``'s dependencies without PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from prometheus_client import CollectorRegistry
from sklearn.linear_model import LogisticRegression

from driftline.deployment.deps import DeploymentDeps
from driftline.deployment.models.array_twin import array_twin
from driftline.deployment.models.cache import ModelCache
from driftline.deployment.models.loading import LoadedModel
from driftline.deployment.models.predictor import predict_columns
from driftline.deployment.records import Deployment, Served
from driftline.deployment.serving.batch_metrics import FlushReason, batch_metrics
from driftline.deployment.serving.batchers import Batchers
from driftline.deployment.serving.micro_batcher import Outcome
from driftline.deployment.serving.row_batch import RowBatch
from driftline.deployment.settings import DeploymentSection
from driftline.runtime.storage.local import LocalArtifactStore
from driftline_contracts.modelspec import MicroBatching
from driftline_contracts.values import ArtifactRef, ModelRef

FEATURES = ("a", "b", "c")
REF = ModelRef(name="m", version=1)
ARTIFACT = ArtifactRef(
    uri="file:///m.skops", sha256="0" * 64, media_type="application/octet-stream", size_bytes=1
)


def fitted() -> LoadedModel:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    frame = pd.DataFrame(x, columns=list(FEATURES))
    estimator = LogisticRegression().fit(frame, np.where(x[:, 0] + x[:, 1] > 0, "yes", "no"))
    return LoadedModel(estimator, FEATURES, array_twin(estimator, FEATURES))


def requests(count: int, rows: int = 1, seed: int = 1) -> list[RowBatch]:
    rng = np.random.default_rng(seed)
    return [
        RowBatch.of(
            [dict(zip(FEATURES, r, strict=True)) for r in rng.normal(size=(rows, 3)).tolist()],
            FEATURES,
        )
        for _ in range(count)
    ]


class Recorded:
    """``predict_columns`` on the float matrix, as the serving path runs it; records calls."""

    def __init__(self, model: LoadedModel, fail_on: float | None = None) -> None:
        self.model = model
        self.fail_on = fail_on
        self.calls: list[int] = []

    async def __call__(self, batch: RowBatch) -> Outcome:
        self.calls.append(len(batch))
        await asyncio.sleep(0.001)  # a predict in a thread: other requests run meanwhile
        if self.fail_on is not None and any(v[0] == self.fail_on for v in batch.values):
            raise RuntimeError("bad request")
        matrix = batch.matrix()
        assert matrix is not None
        return predict_columns(self.model, matrix), 0.1


class Seen:
    """A ``BatchObserver`` that keeps what each predict call reported."""

    def __init__(self) -> None:
        self.reasons: Counter[str] = Counter()
        self.rows: list[int] = []
        self.requests: list[int] = []
        self.waits_ms: list[float] = []

    def batch_started(
        self, reason: FlushReason, rows: int, requests: int, waits_s: Sequence[float]
    ) -> None:
        self.reasons[reason] += 1
        self.rows.append(rows)
        self.requests.append(requests)
        self.waits_ms += [w * 1000.0 for w in waits_s]


class Routing:
    """The routing cache's answer without PostgreSQL: ``deployment``, one object until a
    test replaces it (as the cache keeps one until PostgreSQL says it changed)."""

    def __init__(self, batching: MicroBatching | None, version: int = 1) -> None:
        self.deployment = deployment(batching, version)

    async def get(self, name: str, load: Any) -> Deployment:
        return self.deployment


def deployment(batching: MicroBatching | None, version: int = 1) -> Deployment:
    """Model ``m`` served by ``version`` alone."""
    served = Served(ModelRef(name="m", version=version), ARTIFACT)
    return Deployment("m", served, micro_batching=batching)


def serving_deps(
    tmp_path: Path, batching: MicroBatching | None, registry: CollectorRegistry | None = None
) -> DeploymentDeps:
    """``serve()``'s dependencies: versions 1 and 2 of ``m`` loaded, batching as given, the
    batchers' metrics in ``registry`` when one is given."""
    store = LocalArtifactStore(tmp_path)
    cache = ModelCache(store)
    cache.put(REF, fitted())
    cache.put(ModelRef(name="m", version=2), fitted())
    settings = DeploymentSection(log_predictions=False)
    batchers = Batchers(batch_metrics(registry) if registry is not None else None)
    return DeploymentDeps(store, cache, settings, routing=Routing(batching), batchers=batchers)  # type: ignore[arg-type]


def bodies(count: int, rows: int | None = None) -> list[list[dict[str, Any]]]:
    """Requests of ``rows`` rows, else of one to three rows."""
    return [
        [dict(row) for row in requests(1, rows=rows or 1 + i % 3, seed=i)[0].rows]
        for i in range(count)
    ]
