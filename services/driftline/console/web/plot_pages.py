"""Pages built around plots: a model's drift (windows over time and each window's
distributions, from monitoring's API) and one dataset version's profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from driftline.console.deps import ConsoleDeps
from driftline.console.ports import Row
from driftline.console.web.pages import Filter, ModelName, VersionNumber, page_renderer, signed_in
from driftline.console.web.plots import distribution_svg, profile_plots
from driftline.console.web.views import drift_charts
from driftline_contracts.values import SLUG_PATTERN

WINDOWS_LISTED = 50
"""Monitoring windows offered for the distribution plots (newest first)."""
DatasetName = Annotated[str, Path(pattern=SLUG_PATTERN)]
WindowSeq = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Window number.")]


def _chosen(windows: list[Row], asked: int | None) -> Row | None:
    """The window asked for, else the newest one (None: no window, or not among the listed)."""
    if asked is None:
        return windows[0] if windows else None
    return next((w for w in windows if w.get("seq") == asked), {"seq": asked})


def plot_pages_router(deps: ConsoleDeps) -> APIRouter:
    """``/models/{name}/drift`` and ``/datasets/{name}/versions/{version}``."""
    router = APIRouter(
        tags=["console"], dependencies=[Depends(signed_in(deps))], include_in_schema=False
    )
    render, read = page_renderer(deps), deps.reader

    @router.get("/models/{name}/drift", response_class=HTMLResponse)
    async def drift(
        request: Request, name: ModelName, feature: Filter = None, window: WindowSeq = None
    ) -> HTMLResponse:
        windows, problem = await deps.upstream.drift_windows(name, WINDOWS_LISTED)
        chosen = _chosen(windows, window)
        report = await deps.upstream.window_report(name, chosen["seq"]) if chosen else None
        dists = [d for d in (report or {}).get("distributions") or [] if isinstance(d, dict)]
        if feature:
            dists = [d for d in dists if d.get("feature") == feature]
        return render(
            request,
            "drift.html",
            name=name,
            feature=feature or "",
            charts=drift_charts(await read.drift_windows(name, feature, 2000)),
            episodes=await read.drift_episodes(name),
            windows=windows,
            windows_problem=problem,
            chosen=chosen,
            report=report,
            distributions=[(str(d.get("feature")), distribution_svg(d)) for d in dists],
        )

    @router.get("/datasets/{name}/versions/{version}", response_class=HTMLResponse)
    async def profile(request: Request, name: DatasetName, version: VersionNumber) -> HTMLResponse:
        found = await read.dataset_version(name, version)
        if found is None:
            return render(request, "missing.html", 404, what=f"dataset {name} v{version}")
        ref = found.get("profile") or {}
        document = (
            await deps.artifacts.json_document(str(ref["uri"]), ref.get("sha256"))
            if deps.artifacts is not None and ref.get("uri")
            else None
        )
        nulls, columns = profile_plots(document) if document is not None else (None, [])
        return render(
            request,
            "dataset.html",
            dataset=found,
            has_ref=bool(ref.get("uri")),
            profile=document,
            nulls=nulls,
            columns=columns,
        )

    return router
