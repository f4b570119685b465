"""Feedback: true labels for served requests become GroundTruthReceived via the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from driftline.deployment.errors import UnknownRequestIdsError
from driftline.deployment.prediction_log.postgres import PostgresPredictionLog
from driftline.runtime.uow import UnitOfWorkFactory
from driftline_contracts.events.monitoring import GroundTruthReceived


async def receive_labels(
    units: UnitOfWorkFactory,
    name: str,
    labels: Mapping[str, Any],
    actor: str | None = None,
    *,
    refuse_unknown: bool = True,
) -> str:
    """Attach labels and emit GroundTruthReceived in one transaction; the event's id.

    ``refuse_unknown=False`` (the Kafka prediction log, where most rows have no PostgreSQL
    row): ids this log does not hold are passed on too; monitoring and training join labels
    by request id, so an id no prediction carries labels nothing.
    """
    now = datetime.now(UTC)
    async with units(actor=actor) as uow:
        log = PostgresPredictionLog(uow.session)
        unknown = await log.unknown_request_ids(name, list(labels))
        if unknown and refuse_unknown:
            raise UnknownRequestIdsError(unknown)
        await log.attach_labels(labels, now)
        envelope = await uow.emit(
            GroundTruthReceived(model=name, labels=dict(labels), received_at=now)
        )
    return envelope.id
