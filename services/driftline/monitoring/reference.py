"""Finding a model's reference: the profile of the data its serving version trained on."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from prometheus_client import CollectorRegistry, Counter

from driftline.monitoring.records import MonitoredModel, TrainedOn
from driftline.monitoring.row_flags import flagged_rows_counter, window_rows_counter
from driftline.monitoring.settings import MonitoringSection
from driftline.runtime.storage import ArtifactStore
from driftline_contracts.values import ArtifactRef, DatasetRef

if TYPE_CHECKING:
    from driftline.monitoring.evaluation import Reference
    from driftline.stats.profile import DatasetProfile


class ReferenceStore(Protocol):
    """Where spec facts, registered versions and dataset profiles are kept."""

    async def model(self, name: str) -> MonitoredModel | None: ...
    async def trained_on(self, name: str, version: int) -> TrainedOn | None: ...
    async def profile(
        self, dataset: str, sha256: str | None = None
    ) -> tuple[DatasetRef, ArtifactRef] | None: ...


def dropped_rows_counter(registry: CollectorRegistry | None) -> Counter:
    """Predictions dropped from the buffer of a model whose reference is unknown."""
    return Counter(
        "driftline_monitoring_rows_dropped_total",
        "Buffered predictions dropped while the model's spec or reference was unknown.",
        ["model"],
        registry=registry,
    )


@dataclass
class MonitoringDeps:
    """What the handlers need beyond the unit of work: store, settings, caches, counters."""

    store: ArtifactStore
    settings: MonitoringSection
    profiles: OrderedDict[str, DatasetProfile] = field(default_factory=OrderedDict)
    dropped: Counter = field(default_factory=lambda: dropped_rows_counter(CollectorRegistry()))
    flagged: Counter = field(default_factory=lambda: flagged_rows_counter(CollectorRegistry()))
    evaluated: Counter = field(default_factory=lambda: window_rows_counter(CollectorRegistry()))

    async def profile(self, ref: ArtifactRef) -> DatasetProfile:
        """A profile by reference; the few most recent stay in memory (they never change)."""
        from driftline.monitoring.adapters.artifacts import load_profile  # pandas: on first use

        if ref.sha256 not in self.profiles:
            self.profiles[ref.sha256] = await load_profile(self.store, ref)
            while len(self.profiles) > 16:
                self.profiles.popitem(last=False)
        return self.profiles[ref.sha256]


@dataclass(frozen=True)
class Resolved:
    """A usable reference and the dataset version it describes."""

    reference: Reference
    dataset: DatasetRef


async def resolve_reference(
    model: MonitoredModel, version: int, refs: ReferenceStore, deps: MonitoringDeps
) -> Resolved | None:
    """The training data's profile of ``version``; else the newest validated spec dataset's.

    ModelPromoted carries no profile, so monitoring follows ModelRegistered (version ->
    dataset sha256 and holdout metrics) and DataValidated (dataset sha256 -> profile).
    """
    from driftline.monitoring.evaluation import Reference  # pandas, scipy: on first use

    trained = await refs.trained_on(model.model, version)
    found = None
    if trained is not None:
        found = await refs.profile(trained.dataset.name, trained.dataset.sha256)
    if found is None:
        found = await refs.profile(model.dataset)
    if found is None:
        return None
    dataset, profile_ref = found
    profile = await deps.profile(profile_ref)
    metrics = trained.metrics if trained is not None else {}
    return Resolved(Reference(profile, model.target, model.task, metrics), dataset)
