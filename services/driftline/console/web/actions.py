"""The console's only writes, each through the owning service's public API as the caller.

An approver approves, rejects or overrides (registry); an approver or admin promotes the running
canary now, or puts a version that served before back in production (deployment: a roll back
or a re-promotion). The browser sends the caller's own token in the header (the pages' cookie
is not enough for a write: the platform's auth refuses writes without ``Authorization``, which
also keeps other sites from posting here); the console checks the role, then passes the same
header on, so the owning service decides and the audit names the person.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from driftline.console.deps import ConsoleDeps
from driftline.console.ports import Row
from driftline.console.web.pages import ModelName, VersionNumber, identity

DECIDERS = frozenset({"approver"})
"""Roles the registry lets decide on a version (approve, reject, override)."""
PROMOTERS = frozenset({"approver", "admin"})
"""Roles deployment lets promote or roll back."""


class DecisionIn(BaseModel):
    """The approver's optional note."""

    comment: str | None = Field(None, max_length=2000, description="Why approved or rejected.")


class OverrideIn(BaseModel):
    """Why the gates are wrong here (required; kept in the registry and the audit)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1500, description="Why approve over the gates.")


class PromoteIn(BaseModel):
    """The canary version the caller means (deployment answers 409 if another one runs)."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, ge=1, le=2**31 - 1, description="Expected canary version.")


class PromoteVersionIn(BaseModel):
    """Why this version goes back to production (kept in ModelPromoted and the audit)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=256, description="e.g. 'v7 misroutes refunds'.")


def refusal(request: Request, roles: frozenset[str]) -> JSONResponse | None:
    """401 without the caller's own bearer token or identity, 403 without one of ``roles``."""
    authorization = request.headers.get("authorization", "")
    user = identity(request)
    if not authorization.lower().startswith("bearer ") or user is None:
        return JSONResponse({"detail": "send your own token: Authorization: Bearer"}, 401)
    if user["role"] not in roles:
        allowed = " or ".join(sorted(roles))
        return JSONResponse({"detail": f"this needs the {allowed} role"}, 403)
    return None


def actions_router(deps: ConsoleDeps) -> APIRouter:
    """Override, promote, roll back and approve / reject (POST, JSON in, ``{detail}`` out)."""
    router = APIRouter(tags=["console"], include_in_schema=False)
    upstream = deps.upstream

    async def forward(request: Request, service: str, path: str, body: Row) -> JSONResponse:
        status, detail = await upstream.write(service, path, body, request.headers["authorization"])
        return JSONResponse({"detail": detail}, status_code=status)

    @router.post("/models/{name}/versions/{version}/override")
    async def override(
        request: Request, name: ModelName, version: VersionNumber, body: OverrideIn
    ) -> JSONResponse:
        refused = refusal(request, DECIDERS)
        if refused is not None:
            return refused
        path = f"/v1/models/{name}/versions/{version}/override"
        return await forward(request, "registry", path, {"reason": body.reason})

    @router.post("/models/{name}/versions/{version}/promote")
    async def promote_version(
        request: Request, name: ModelName, version: VersionNumber, body: PromoteVersionIn
    ) -> JSONResponse:
        refused = refusal(request, PROMOTERS)
        if refused is not None:
            return refused
        path = f"/v1/models/{name}/versions/{version}/promote"
        return await forward(request, "deployment", path, {"reason": body.reason})

    @router.post("/models/{name}/promote")
    async def promote_canary(
        request: Request, name: ModelName, body: Annotated[PromoteIn | None, Body()] = None
    ) -> JSONResponse:
        refused = refusal(request, PROMOTERS)
        if refused is not None:
            return refused
        wanted = {"version": body.version} if body and body.version else {}
        return await forward(request, "deployment", f"/v1/models/{name}/promote", wanted)

    @router.post("/models/{name}/versions/{version}/{decision}")
    async def decide(
        request: Request,
        name: ModelName,
        version: VersionNumber,
        decision: Annotated[str, Path(pattern="^(approve|reject)$")],
        body: Annotated[DecisionIn | None, Body()] = None,
    ) -> JSONResponse:
        refused = refusal(request, DECIDERS)
        if refused is not None:
            return refused
        status, detail = await upstream.decide(
            name, version, decision, body.comment if body else None,
            request.headers["authorization"],
        )  # fmt: skip
        return JSONResponse({"detail": detail}, status_code=status)

    return router
