"""What the training worker and the HTTP API share in one replica."""

from __future__ import annotations

from dataclasses import dataclass

from driftline.runtime.openlineage import LineageEmitter
from driftline.runtime.storage import ArtifactStore
from driftline.runtime.trainer_policy import TrainerPolicy
from driftline.training.pool import TrainingPool
from driftline.training.settings import TrainingSection


@dataclass(frozen=True)
class TrainingDeps:
    """Settings, object store, process pool, trainer policy and OpenLineage emitter
    (``runtime.deps``)."""

    settings: TrainingSection
    store: ArtifactStore
    pool: TrainingPool
    policy: TrainerPolicy
    lineage: LineageEmitter | None = None
