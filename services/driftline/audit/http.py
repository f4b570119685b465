"""Audit HTTP API: read the timeline, verify the chain."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from driftline.audit.adapters.postgres import PostgresAuditLog
from driftline.audit.core import AuditEntry
from driftline.audit.verify import verify_audit_log
from driftline.runtime.service import ServiceRuntime


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    """An entry as the API and ``driftline audit tail --json`` show it."""
    try:
        data: Any = json.loads(entry.payload)
    except ValueError:
        data = None
    return {
        "seq": entry.seq,
        "id": entry.event_id,
        "type": entry.type,
        "subject": entry.subject,
        "source": entry.source,
        "actor": entry.actor,
        "time": entry.time.isoformat(),
        "correlationid": entry.correlation_id,
        "causationid": entry.causation_id,
        "data": data,
        "hash": entry.hash,
    }


def routers(runtime: ServiceRuntime) -> list[APIRouter]:
    """``GET /v1/audit/events`` and ``GET /v1/audit/verify``."""
    router = APIRouter(prefix="/v1/audit", tags=["audit"])

    @router.get("/events", summary="Audited events in chain order, filtered.")
    async def events(
        model: Annotated[str | None, Query(max_length=128, description="Subject.")] = None,
        type: Annotated[str | None, Query(max_length=256, description="Part of ce type.")] = None,
        since: Annotated[datetime | None, Query(description="At or after this time.")] = None,
        after_seq: Annotated[int, Query(ge=0, description="After this chain position.")] = 0,
        limit: Annotated[int, Query(ge=1, le=5000, description="Maximum entries.")] = 500,
    ) -> list[dict[str, Any]]:
        async with runtime.units() as uow:
            found = await PostgresAuditLog(uow.session).query(
                subject=model, type_=type, since=since, after_seq=after_seq, limit=limit
            )
        return [entry_json(e) for e in found]

    @router.get("/verify", summary="Recompute the hash chain and check the signed digest.")
    async def verify() -> dict[str, Any]:
        key = runtime.settings.audit.digest_key.get_secret_value().encode()  # type: ignore[attr-defined]
        report = await verify_audit_log(runtime.engine, runtime.store, key)
        return report.to_dict()

    return [router]
