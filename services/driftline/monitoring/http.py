"""Monitoring HTTP API: the latest drift report of a model and its evaluated windows."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from driftline.monitoring.adapters.windows import PostgresWindows
from driftline.runtime.service import ServiceRuntime


class WindowOut(BaseModel):
    """One evaluated window."""

    window_id: str
    seq: int
    version: int
    start: datetime
    end: datetime
    rows: int
    drifted: bool
    drift_share: float
    severity: str
    transition: str
    drift_id: str | None
    report_uri: str
    html_uri: str


def drift_router(runtime: ServiceRuntime) -> APIRouter:
    """``/v1/models/{name}/drift``, ``.../drift/windows`` and ``.../drift/windows/{seq}``."""
    router = APIRouter(prefix="/v1/models", tags=["drift"])

    @router.get("/{name}/drift", summary="Latest drift report (JSON, or HTML with format=html).",
                responses={404: {"description": "No evaluated drift window yet."}})  # fmt: skip
    async def latest_report(
        name: str,
        format: Literal["json", "html"] = Query("json"),
    ) -> Any:
        async with runtime.units() as uow:
            found = await PostgresWindows(uow.session).windows(name, limit=1)
        if not found:
            raise HTTPException(404, f"no evaluated drift window for model {name!r}")
        ref = found[0].report_html if format == "html" else found[0].report
        data = await runtime.store.get_bytes(ref.uri, sha256=ref.sha256)
        return HTMLResponse(data.decode()) if format == "html" else json.loads(data)

    @router.get("/{name}/drift/windows", summary="Evaluated windows, newest first.")
    async def list_windows(name: str, limit: int = Query(100, ge=1, le=1000)) -> list[WindowOut]:
        async with runtime.units() as uow:
            found = await PostgresWindows(uow.session).windows(name, limit=limit)
        return [
            WindowOut(
                **{k: v for k, v in vars(w).items() if k not in ("model", "report", "report_html")},
                report_uri=w.report.uri,
                html_uri=w.report_html.uri,
            )
            for w in found
        ]

    @router.get("/{name}/drift/windows/{seq}",
                summary="One evaluated window's JSON report, with its reference-vs-current "
                "distributions (empty for windows evaluated before reports carried them).",
                responses={404: {"description": "No such window of this model."}})  # fmt: skip
    async def window_report(name: str, seq: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> Any:
        async with runtime.units() as uow:
            found = await PostgresWindows(uow.session).window(name, seq)
        if found is None:
            raise HTTPException(404, f"model {name!r} has no evaluated window {seq}")
        data = await runtime.store.get_bytes(found.report.uri, sha256=found.report.sha256)
        return {"distributions": [], **json.loads(data)}

    return router
