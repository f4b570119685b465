"""The audit timeline, the chain's verification, a version's lineage and the live feed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from driftline.console.deps import ConsoleDeps
from driftline.console.web.pages import Filter, ModelName, Page, page_renderer, paged, signed_in
from driftline.console.web.views import lineage_svg

FEED_POLL_S = 1.0
FEED_STREAM_S = 300.0
"""A stream ends after this long; the browser's EventSource reconnects on its own."""


def audit_router(deps: ConsoleDeps) -> APIRouter:
    """``/audit``, ``/audit/verify``, ``/audit/lineage/{model}/{version}`` and ``/feed``."""
    router = APIRouter(
        tags=["console"], dependencies=[Depends(signed_in(deps))], include_in_schema=False
    )
    render, size = page_renderer(deps), deps.section.page_size

    @router.get("/audit", response_class=HTMLResponse)
    async def timeline(
        request: Request,
        type: Filter = None,
        subject: Filter = None,
        actor: Filter = None,
        page: Page = 1,
    ) -> HTMLResponse:
        filters = {k: v for k, v in (("type", type), ("subject", subject), ("actor", actor)) if v}
        rows, more = paged(await deps.reader.events(filters, 0, (page - 1) * size, size + 1), size)
        return render(request, "audit.html", rows=rows, more=more, page=page, filters=filters)

    @router.get("/audit/verify", response_class=HTMLResponse)
    async def verify(request: Request) -> HTMLResponse:
        return render(request, "_verify.html", report=await deps.upstream.verify())

    @router.get("/audit/lineage/{model}/{version}", response_class=HTMLResponse)
    async def lineage(
        request: Request, model: ModelName, version: Annotated[int, Path(ge=1, le=2**31 - 1)]
    ) -> HTMLResponse:
        found = await deps.upstream.lineage(model, version)
        if found is None:
            return render(request, "missing.html", 404, what=f"lineage of {model} v{version}")
        return render(
            request,
            "lineage.html",
            model=model,
            version=version,
            lineage=found,
            graph=lineage_svg(found),
        )

    @router.get("/feed")
    async def feed(request: Request, after: Annotated[int, Query(ge=0)] = 0) -> StreamingResponse:
        """Server-sent events: each new audited event as an HTML list item."""
        resumed = request.headers.get("last-event-id", "")
        start = int(resumed) if resumed.isdigit() and len(resumed) < 19 else after
        return StreamingResponse(
            _stream(deps, request, start),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return router


async def _stream(
    deps: ConsoleDeps, request: Request, after: int, poll_s: float = FEED_POLL_S
) -> AsyncIterator[str]:
    """Poll the read model for entries past ``after`` and send each as an ``audit`` event."""
    item = deps.templates.get_template("_event.html")
    if after == 0:
        newest = await deps.reader.events({}, 0, 0, 1)
        after = newest[0]["position"] if newest else 0
    yield "retry: 3000\n\n"
    deadline = time.monotonic() + FEED_STREAM_S
    while time.monotonic() < deadline and not await request.is_disconnected():
        for row in await deps.reader.events({}, after, 0, 100):
            after = row["position"]
            html = " ".join(item.render(e=row).split())
            yield f"id: {after}\nevent: audit\ndata: {html}\n\n"
        await asyncio.sleep(poll_s)
