"""Audit HTTP API: read the timeline, verify the chain, trace lineage, report KPIs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import AwareDatetime

from driftline.audit.adapters.postgres import PostgresAuditLog
from driftline.audit.chain_metrics import chain_gauges
from driftline.audit.core import AuditEntry
from driftline.audit.kpis import Kpis
from driftline.audit.lineage import Lineage, UnknownEventError
from driftline.audit.queries import (
    VersionNotFoundError,
    load_kpis,
    load_lineage,
    load_version_lineage,
)
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
        "origin": entry.origin,  # whose signature the sink verified (null: none)
    }


def routers(runtime: ServiceRuntime) -> list[APIRouter]:
    """``/v1/audit/events``, ``/v1/audit/verify``, ``/v1/lineage/...`` and ``/v1/kpis``."""
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

    @router.get("/verify", summary="Recompute the chain; check every digest and its copies.")
    async def verify() -> dict[str, Any]:
        report = await verify_audit_log(
            runtime.engine, runtime.store, runtime.deps, runtime.settings.kafka
        )
        chain_gauges(runtime.metrics.registry).record(report)
        return report.to_dict()

    return [router, _lineage_router(runtime), _kpis_router(runtime)]


def _lineage_router(runtime: ServiceRuntime) -> APIRouter:
    """``GET /v1/lineage/{model}/{version}`` and ``GET /v1/lineage/events/{event_id}``."""
    router = APIRouter(prefix="/v1/lineage", tags=["lineage"])

    @router.get("/events/{event_id}", summary="Causation chain ending at one event.",
                responses={404: {"description": "The event is not in the audit log."}})  # fmt: skip
    async def event_lineage(event_id: Annotated[str, Path(max_length=128)]) -> Lineage:
        async with runtime.units() as uow:
            try:
                return await load_lineage(PostgresAuditLog(uow.session), event_id)
            except UnknownEventError as exc:
                raise HTTPException(404, str(exc)) from exc

    @router.get("/{model}/{version}", summary="Chain from the data to a version's furthest stage.",
                responses={404: {"description": "No event about that version."}})  # fmt: skip
    async def model_lineage(
        model: Annotated[str, Path(max_length=128)], version: Annotated[int, Path(ge=1)]
    ) -> Lineage:
        async with runtime.units() as uow:
            try:
                return await load_version_lineage(PostgresAuditLog(uow.session), model, version)
            except VersionNotFoundError as exc:
                raise HTTPException(404, str(exc)) from exc

    return router


def _kpis_router(runtime: ServiceRuntime) -> APIRouter:
    """``GET /v1/kpis``."""
    router = APIRouter(prefix="/v1", tags=["kpis"])

    @router.get("/kpis", summary="Lead time, deployment frequency, failure rate, MTTD, MTTR.")
    async def kpis(
        model: Annotated[str | None, Query(max_length=128, description="Only this model.")] = None,
        since: Annotated[AwareDatetime | None, Query(description="Window start.")] = None,
    ) -> Kpis:
        async with runtime.units() as uow:
            return await load_kpis(
                PostgresAuditLog(uow.session), model=model, since=since, now=datetime.now(UTC)
            )

    return router
