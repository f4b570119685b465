"""Monitoring handlers: thin subscribers that remember references and evaluate windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from driftline.monitoring.adapters.references import PostgresReferences
from driftline.monitoring.adapters.windows import PostgresWindows
from driftline.monitoring.records import MonitoredModel, TrainedOn
from driftline.monitoring.reference import MonitoringDeps
from driftline.runtime.consumer import Subscription
from driftline.runtime.logging import get_logger
from driftline.runtime.uow import Correlated, EventUnit
from driftline_contracts.events.base import Event
from driftline_contracts.events.data import DataValidated
from driftline_contracts.events.deployment import ModelPromoted
from driftline_contracts.events.monitoring import (
    DriftDetected,
    DriftResolved,
    GroundTruthReceived,
    PredictionsLogged,
)
from driftline_contracts.events.registry import ModelRegistered
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.modelspec import DriftPolicy
from driftline_contracts.values import TimeWindow

log = get_logger(__name__)


class UnknownModelError(Exception):
    """An event names a model whose spec monitoring has not seen (retried, then dead-lettered)."""


async def on_model_spec_applied(event: ModelSpecApplied, uow: EventUnit[MonitoringDeps]) -> None:
    """Remember the model's target, task and drift policy."""
    try:
        policy = DriftPolicy.model_validate(event.spec.get("drift") or {})
    except ValidationError as exc:
        log.warning("drift policy invalid, defaults used", model=event.model, error=str(exc))
        policy = DriftPolicy()
    model = MonitoredModel(event.model, event.dataset, event.task, event.target, policy)
    await PostgresReferences(uow.session).save_model(model)


async def on_data_validated(event: DataValidated, uow: EventUnit[MonitoringDeps]) -> None:
    """Remember the dataset version's profile: a possible reference."""
    await PostgresReferences(uow.session).save_profile(event.dataset, event.profile)


async def on_model_registered(event: ModelRegistered, uow: EventUnit[MonitoringDeps]) -> None:
    """Remember which data a version trained on and its holdout metrics."""
    trained = TrainedOn(event.dataset, dict(event.metrics))
    await PostgresReferences(uow.session).save_version(
        event.model.name, event.model.version, trained
    )


def as_episode(events: Event | list[Event] | None) -> list[Event | Correlated]:
    """Drift-episode events carry the episode's id as correlation id: the retrain, canary and
    promotion that answer a DriftDetected, and its DriftResolved, form one correlated chain."""
    found = [] if events is None else events if isinstance(events, list) else [events]
    return [
        Correlated(e, e.drift_id) if isinstance(e, DriftDetected | DriftResolved) else e
        for e in found
    ]


async def on_model_promoted(
    event: ModelPromoted, uow: EventUnit[MonitoringDeps]
) -> list[Event | Correlated]:
    """Switch the champion; an open episode of the replaced version ends as model_replaced."""
    from driftline.monitoring.episodes import replace_model  # pandas, scipy: on first use

    if not await PostgresReferences(uow.session).set_champion(
        event.model.name, event.model.version
    ):
        raise UnknownModelError(f"no model spec seen for {event.model.name!r}")
    windows = PostgresWindows(uow.session)
    await windows.drop_pending(event.model.name, keep_version=event.model.version)
    now = datetime.now(UTC)
    return as_episode(
        await replace_model(
            windows, event.model, TimeWindow(start=now, end=now + timedelta(seconds=1))
        )
    )


async def on_predictions_logged(
    event: PredictionsLogged, uow: EventUnit[MonitoringDeps]
) -> list[Event | Correlated]:
    """Buffer a batch; DriftDetected or DriftResolved when a full window changes the episode."""
    from driftline.monitoring.workflow import log_predictions  # pandas, scipy: on first use

    refs, windows = PostgresReferences(uow.session), PostgresWindows(uow.session)
    return as_episode(await log_predictions(event, refs, windows, uow.deps))


async def on_ground_truth_received(
    event: GroundTruthReceived, uow: EventUnit[MonitoringDeps]
) -> list[Event | Correlated]:
    """Keep true labels; re-judge the performance of windows already evaluated without them."""
    from driftline.monitoring.late_labels import receive_labels  # pandas, scipy: on first use

    refs, windows = PostgresReferences(uow.session), PostgresWindows(uow.session)
    return as_episode(await receive_labels(event, refs, windows, uow.deps))


def subscriptions(_: object) -> list[Subscription]:
    """What the monitoring service consumes."""
    return [
        Subscription(on_model_spec_applied),
        Subscription(on_data_validated),
        Subscription(on_model_registered),
        Subscription(on_model_promoted),
        Subscription(on_predictions_logged),
        Subscription(on_ground_truth_received),
    ]
