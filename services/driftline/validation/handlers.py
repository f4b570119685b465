"""Validation handlers: thin subscribers that call the validation workflow."""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftline.runtime.consumer import Subscription
from driftline.runtime.logging import get_logger
from driftline.runtime.uow import EventUnit
from driftline.validation.adapters.postgres import PostgresValidationRepository
from driftline.validation.lineage import ValidationRun
from driftline.validation.specs import spec_record
from driftline_contracts.events.data import DataArrived, DataValidated
from driftline_contracts.events.spec import ModelSpecApplied

if TYPE_CHECKING:
    from driftline.validation.deps import ValidationDeps
    from driftline.validation.workflow import Outcome

log = get_logger(__name__)


async def on_model_spec_applied(event: ModelSpecApplied, uow: EventUnit[ValidationDeps]) -> None:
    """Remember which dataset a model trains on and what it expects of it."""
    spec = spec_record(event)
    await PostgresValidationRepository(uow.session).save_spec(spec)
    if spec.error is not None:
        log.warning("spec expectations ignored", model=spec.model, error=spec.error)


async def on_data_arrived(event: DataArrived, uow: EventUnit[ValidationDeps]) -> Outcome | None:
    """Validate an arrival: DataValidated or DataRejected, nothing for bytes already judged."""
    from driftline.validation.workflow import validate_arrival  # pandas, scipy: on first use

    repo = PostgresValidationRepository(uow.session)
    run = ValidationRun(uow.deps.lineage, event.dataset, uow.cause.id)
    await run.started()
    outcome = await validate_arrival(event.dataset, repo, uow.deps, event_id=uow.cause.id)
    await run.finished(outcome)
    if outcome is None:
        log.info("dataset bytes already validated, nothing emitted")
    else:
        log.info("dataset validated", accepted=isinstance(outcome, DataValidated))
    return outcome


def subscriptions(_: object) -> list[Subscription]:
    """What the validation service consumes."""
    return [
        Subscription(on_model_spec_applied),
        Subscription(on_data_arrived),
    ]
