"""Training handlers: thin subscribers that store specs and enqueue durable jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from driftline.runtime.consumer import Subscription
from driftline.runtime.logging import get_logger
from driftline.runtime.uow import EventUnit
from driftline.training import core
from driftline.training.adapters.champions import Champion, PostgresChampions
from driftline.training.adapters.pending import PendingDrifts
from driftline.training.adapters.postgres import PostgresTrainingRepository
from driftline.training.adapters.production import served_of
from driftline.training.deps import TrainingDeps
from driftline.training.retrain_policy import trains
from driftline_contracts.events.data import DataValidated
from driftline_contracts.events.deployment import ModelPromoted
from driftline_contracts.events.monitoring import (
    DriftDetected,
    GroundTruthReceived,
    PredictionsLogged,
)
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.events.training import RetrainSkipped

log = get_logger(__name__)


class UnknownModelError(Exception):
    """A retrain was asked for a model whose spec training has not seen."""


async def on_model_spec_applied(event: ModelSpecApplied, uow: EventUnit[TrainingDeps]) -> None:
    """Keep the model's spec (if the trainer policy allows its trainer: else a dead letter
    naming the refused field); train it on the newest accepted data if there is some."""
    deps = uow.deps
    spec = core.allowed_trainer(
        core.spec_record(event.model, event.spec_hash, event.spec), deps.policy
    )
    repo = PostgresTrainingRepository(uow.session)
    await repo.lock_dataset(spec.dataset)
    previous = await repo.spec(spec.model)
    await repo.save_spec(spec)
    latest = await repo.latest_version(spec.dataset)
    if latest is None:
        return
    ran = None if previous is None else await repo.job_status(
        spec.model, latest.sha256, previous.spec_hash)  # fmt: skip
    if not trains(spec, previous, ran):
        log.info("spec change leaves training unchanged; no run", model=spec.model)
        return
    job = core.job_for(spec, latest, "spec_applied", uow.cause)
    if await repo.enqueue(job, retry_failed=True):
        log.info("training queued for the spec", model=spec.model, version=latest.version)


async def on_data_validated(event: DataValidated, uow: EventUnit[TrainingDeps]) -> None:
    """Queue a training job for every model trained on the accepted dataset."""
    repo = PostgresTrainingRepository(uow.session)
    await repo.lock_dataset(event.dataset.name)
    if event.dataset.version is not None:
        await repo.record_version(event.dataset, uow.cause.id, uow.cause.time)
    specs = await repo.specs_for(event.dataset.name)
    for job in core.jobs_for_validated(specs, event.dataset, uow.cause):
        queued = await repo.enqueue(job)
        await PendingDrifts(uow.session).forget(job.model)  # newer data answers the drift
        log.info("training job", model=job.model, queued=queued, run_id=job.run_id)


async def on_drift_detected(
    event: DriftDetected, uow: EventUnit[TrainingDeps]
) -> RetrainSkipped | None:
    """Retrain on the newest accepted data and the labelled production rows, or say why not."""
    repo = PostgresTrainingRepository(uow.session)
    spec = await repo.spec(event.model.name)
    if spec is None:
        raise UnknownModelError(f"no spec for model {event.model.name!r}")
    await repo.lock_dataset(spec.dataset)
    latest, last = await repo.latest_version(spec.dataset), await repo.last_run(spec.model)
    labelled = await repo.labelled(spec.model) if _with_labels(uow) else core.Labelled()
    decision = core.retrain(spec, latest, last, labelled, uow.cause)
    if isinstance(decision, RetrainSkipped):
        # Labels usually trail the drift: retrain, under this drift's correlation id, as soon
        # as labelled production rows (or new data) arrive.
        await PendingDrifts(uow.session).keep(spec.model, uow.cause)
        return decision
    if await repo.enqueue(decision):
        log.info("drift retrain queued", model=spec.model, labelled_rows=labelled.rows)
        return None
    status = await repo.job_status(
        spec.model, decision.dataset.sha256, spec.spec_hash, decision.labelled_until
    )
    return core.already_queued(decision, status)


def _with_labels(uow: EventUnit[TrainingDeps]) -> bool:
    deps = uow.deps
    return deps.settings.max_labelled_rows > 0


async def on_predictions_logged(event: PredictionsLogged, uow: EventUnit[TrainingDeps]) -> None:
    """Keep the served requests' features of a model training knows, to join with labels."""
    deps = uow.deps
    repo = PostgresTrainingRepository(uow.session)
    if await repo.spec(event.model.name) is None:
        return
    rows, source = await served_of(event, deps.store, deps.settings.max_batch_bytes)
    await repo.save_predictions(event.model.name, rows, source)
    retention = timedelta(days=deps.settings.production_retention_days)
    await repo.forget_production_rows(datetime.now(UTC) - retention)
    await answer_pending_drift(event.model.name, uow)


async def on_ground_truth_received(
    event: GroundTruthReceived, uow: EventUnit[TrainingDeps]
) -> None:
    """Keep the true labels, by request id, of a model training knows."""
    repo = PostgresTrainingRepository(uow.session)
    if await repo.spec(event.model) is not None:
        await repo.save_labels(event.model, dict(event.labels), event.received_at)
        await answer_pending_drift(event.model, uow)


async def answer_pending_drift(model: str, uow: EventUnit[TrainingDeps]) -> None:
    """Queue the retrain a pending DriftDetected asked for once there is something new to
    train on; the job keeps the drift as its cause, so the chain stays one correlated run."""
    if not _with_labels(uow):
        return
    repo = PostgresTrainingRepository(uow.session)
    spec = await repo.spec(model)
    if spec is None:
        return
    # The lock first, as on_drift_detected takes it before it reads the labelled rows: a drift
    # handled at the same time either sees this transaction's rows or has committed its
    # pending drift before the read below (reading it first lost that wake-up, and the retrain).
    await repo.lock_dataset(spec.dataset)
    pending = PendingDrifts(uow.session)
    cause = await pending.get(model)
    if cause is None:
        return
    latest, last = await repo.latest_version(spec.dataset), await repo.last_run(spec.model)
    decision = core.retrain(spec, latest, last, await repo.labelled(spec.model), cause)
    if isinstance(decision, RetrainSkipped):
        return
    if await repo.enqueue(decision):
        log.info("pending drift retrain queued", model=model, drift_event=cause.id)
    await pending.forget(model)


async def on_model_promoted(event: ModelPromoted, uow: EventUnit[TrainingDeps]) -> None:
    """Follow the serving version: the next run is compared with it on its own holdout."""
    champion = Champion(event.model.name, event.model.version, event.artifact)
    await PostgresChampions(uow.session).promoted(champion)
    log.info("champion followed", model=champion.model, version=champion.version)


def subscriptions(_: object) -> list[Subscription]:
    """What the training service consumes."""
    return [
        Subscription(on_model_spec_applied),
        Subscription(on_data_validated),
        Subscription(on_drift_detected),
        Subscription(on_predictions_logged),
        Subscription(on_ground_truth_received),
        Subscription(on_model_promoted),
    ]
