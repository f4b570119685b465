"""Audit sink handler: append every event on the audit topic to the hash chain."""

from __future__ import annotations

from typing import Any

from driftline.audit.adapters.postgres import PostgresAuditLog
from driftline.audit.core import AuditEntry, entry_hash
from driftline.runtime.consumer import Subscription
from driftline.runtime.uow import EventUnit
from driftline_contracts.events import AuditDigestSigned
from driftline_contracts.events.data import DataArrived
from driftline_contracts.topics import AUDIT


async def on_audited_event(event: Any, uow: EventUnit[bytes]) -> None:
    """Chain the event exactly as it was received (envelope + payload bytes)."""
    if isinstance(event, AuditDigestSigned):  # the chain's own digests witness it, not join it
        return
    env, payload = uow.cause, uow.delivery.value
    assert env is not None
    log = PostgresAuditLog(uow.session)
    seq, prev_hash = await log.head()
    if await log.contains(env.id):  # seen on both topics (an upload's DataArrived)
        return
    content: dict[str, Any] = dict(
        event_id=env.id,
        type=env.type,
        subject=env.subject,
        source=env.source,
        actor=env.actor,
        time=env.time,
        correlation_id=env.correlationid,
        causation_id=env.causationid,
        payload=payload,
        origin=uow.verified_by,  # whose signature the consumer verified, if anyone's
    )
    await log.append(
        AuditEntry(
            seq=seq + 1, prev_hash=prev_hash, hash=entry_hash(prev_hash, **content), **content
        )
    )


async def on_pipeline_event(event: Any, uow: EventUnit[bytes]) -> None:
    """Events pipelines publish straight to Kafka never pass an outbox: audit them here."""
    await on_audited_event(event, uow)


def subscriptions(_: object) -> list[Subscription]:
    """Every event relayed to the audit topic, plus pipeline-published DataArrived."""
    return [
        Subscription(object, on_audited_event, topic=AUDIT),
        Subscription(DataArrived, on_pipeline_event),
    ]
