"""The console's pages: every URL shareable, every list filtered and paged by its query."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Protocol
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse

from driftline.console.deps import ConsoleDeps
from driftline.console.web.views import compare_runs, metric_chart, rollouts
from driftline_contracts.values import SLUG_PATTERN

CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'"
)
ModelName = Annotated[str, Path(pattern=SLUG_PATTERN)]
Page = Annotated[int, Query(ge=1, le=100_000, description="1-based page number.")]
Filter = Annotated[str | None, Query(max_length=128)]
VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]


class Render(Protocol):
    """``render(request, template, status=200, **context)`` → an HTML answer."""

    def __call__(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> HTMLResponse: ...


def identity(request: Request) -> dict[str, str] | None:
    """The verified actor and role the auth layers put on the request, if any."""
    actor = request.headers.get("x-driftline-actor")
    return {"actor": actor, "role": request.headers.get("x-driftline-role", "")} if actor else None


def page_renderer(deps: ConsoleDeps) -> Render:
    """``render(request, template, **context)`` → an HTML answer with a strict CSP."""

    def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        def link(**changes: Any) -> str:
            params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
            params += [(k, v) for k, v in changes.items() if v not in (None, "")]
            return f"{request.url.path}?{urlencode(params)}" if params else request.url.path

        html = deps.templates.get_template(template).render(
            request=request, user=identity(request), link=link, **context
        )
        headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
        return HTMLResponse(html, status_code=status, headers=headers)

    return render


def signed_in(deps: ConsoleDeps) -> Callable[[Request], None]:
    """A dependency: with bearer auth, send a caller without a verified token to sign in."""

    def check(request: Request) -> None:
        if deps.sign_in_required and identity(request) is None:
            target = urlencode(
                {"next": request.url.path + (f"?{request.url.query}" if request.url.query else "")}
            )
            raise HTTPException(303, "sign in first", headers={"Location": f"/signin?{target}"})

    return check


def paged(rows: list[Any], size: int) -> tuple[list[Any], bool]:
    """The page's rows (fetched one extra) and whether a next page exists."""
    return rows[:size], len(rows) > size


def pages_router(deps: ConsoleDeps) -> APIRouter:
    """Overview, model, datasets, runs and compare pages."""
    router = APIRouter(
        tags=["console"], dependencies=[Depends(signed_in(deps))], include_in_schema=False
    )
    render, size, read = page_renderer(deps), deps.section.page_size, deps.reader

    @router.get("/", response_class=HTMLResponse)
    async def overview(request: Request, q: Filter = None, page: Page = 1) -> HTMLResponse:
        models, more = paged(await read.models(q, (page - 1) * size, size + 1), size)
        return render(
            request,
            "overview.html",
            models=models,
            more=more,
            page=page,
            q=q or "",
            services=await deps.upstream.readiness(),
            feed=await read.events({}, 0, 0, 20),
        )

    @router.get("/models/{name}", response_class=HTMLResponse)
    async def model(request: Request, name: ModelName) -> HTMLResponse:
        summary, versions = await read.model(name), await read.versions(name)
        if summary is None and not versions:
            return render(request, "missing.html", 404, what=f"model {name}")
        return render(
            request,
            "model.html",
            name=name,
            model=summary or {},
            versions=versions,
            rollouts=rollouts(await read.rollout_steps(name)),
            chart=metric_chart(versions),
        )

    @router.get("/models/{name}/rollouts", response_class=HTMLResponse)
    async def model_rollouts(request: Request, name: ModelName) -> HTMLResponse:
        """The rollouts section alone: the model page polls it while a canary runs. Once the
        canary has ended, htmx is told to reload the page (HX-Refresh): the champion, the
        versions' statuses and the buttons above the section changed with it."""
        steps = rollouts(await read.rollout_steps(name))
        answer = render(request, "_rollouts.html", name=name, rollouts=steps)
        if not steps or steps[0].outcome != "running":
            answer.headers["HX-Refresh"] = "true"
        return answer

    @router.get("/datasets", response_class=HTMLResponse)
    async def datasets(
        request: Request,
        name: Filter = None,
        verdict: Annotated[str | None, Query(pattern="^(accepted|rejected)?$")] = None,
        page: Page = 1,
    ) -> HTMLResponse:
        rows, more = paged(
            await read.datasets(name, verdict or None, (page - 1) * size, size + 1), size
        )
        return render(
            request,
            "datasets.html",
            rows=rows,
            more=more,
            page=page,
            name=name or "",
            verdict=verdict or "",
        )

    @router.get("/runs", response_class=HTMLResponse)
    async def runs(request: Request, model: Filter = None, page: Page = 1) -> HTMLResponse:
        rows, more = paged(await read.runs(model, (page - 1) * size, size + 1), size)
        return render(request, "runs.html", rows=rows, more=more, page=page, model=model or "")

    @router.get("/runs/compare", response_class=HTMLResponse)
    async def compare(
        request: Request,
        run: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006 (FastAPI's default)
    ) -> HTMLResponse:
        found = await read.runs_by_id([r[:128] for r in run])
        return render(request, "compare.html", comparison=compare_runs(found), asked=run)

    return router
