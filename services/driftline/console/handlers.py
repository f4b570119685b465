"""The console's one subscriber: project every audited event into its read model."""

from __future__ import annotations

import json
from typing import Any

from driftline.console.adapters.writer import PostgresReadModelWriter
from driftline.console.deps import ConsoleDeps
from driftline.console.projection import AuditedEvent, project
from driftline.runtime.consumer import Subscription
from driftline.runtime.uow import EventUnit
from driftline_contracts.events import AuditDigestSigned
from driftline_contracts.topics import AUDIT


async def on_audited_event(event: Any, uow: EventUnit[ConsoleDeps]) -> None:
    """Turn the audit entry (envelope + body as received) into read-model rows."""
    if isinstance(event, AuditDigestSigned):  # the chain's own digests, not a lifecycle fact
        return
    env, delivery = uow.cause, uow.delivery  # a consumed event's unit: both always set
    audited = AuditedEvent(
        id=env.id,
        type=env.type,
        subject=env.subject,
        actor=env.actor,
        time=env.time,
        data=json.loads(delivery.value),
    )
    await PostgresReadModelWriter(uow.session).apply(project(audited))


def subscriptions(_: object) -> list[Subscription]:
    """Every event relayed to the audit topic."""
    return [Subscription(object, on_audited_event, topic=AUDIT)]
