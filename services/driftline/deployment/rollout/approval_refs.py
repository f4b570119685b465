"""The approval a person's promotion follows, read from deployment's tables (PostgreSQL).

A promotion through the HTTP API consumed no event, so nothing names its cause; naming the
promoted version's ``ModelApproved`` keeps the lineage of the promotion reaching the run and
the data, as an automatic promotion's does.
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.deployment.tables import canaries, model_versions
from driftline.runtime.uow import EventRef
from driftline_contracts.envelope import Envelope
from driftline_contracts.values import ModelRef


async def approval_of(session: AsyncSession, model: ModelRef) -> EventRef | None:
    """The ModelApproved that made ``model`` servable here: its id, and its correlation id when
    a rollout of the version kept the approval's envelope (a version promoted directly kept
    only the id: None then); None for a version deployment never recorded."""
    v = model_versions.c
    event_id = await session.scalar(
        select(v.event_id).where(v.model == model.name, v.version == model.version)
    )
    if event_id is None:
        return None
    c = canaries.c
    cause = await session.scalar(
        select(c.cause)
        .where(c.model == model.name, c.challenger_version == model.version, c.cause.is_not(None))
        .order_by(c.started_at.desc())
        .limit(1)
    )
    return EventRef(event_id, _correlation(cause, event_id))


def _correlation(cause: str | None, event_id: str) -> str | None:
    """The kept envelope's correlation id if it is the approval's own (else None)."""
    if cause is None:
        return None
    try:
        envelope = Envelope.model_validate_json(cause)
    except ValidationError:  # written by this service; an unreadable one only loses the id
        return None
    return envelope.correlationid if envelope.id == event_id else None
