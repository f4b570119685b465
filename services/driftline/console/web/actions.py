"""The console's only writes: an approver approves or rejects a pending version.

The browser sends the approver's own token in the header (the pages' cookie is not enough for a
write: the platform's auth refuses writes without ``Authorization``, which also keeps other
sites from posting here); the console passes it on to the registry, which decides who may.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from driftline.console.deps import ConsoleDeps
from driftline.console.web.pages import ModelName


class DecisionIn(BaseModel):
    """The approver's optional note."""

    comment: str | None = Field(None, max_length=2000, description="Why approved or rejected.")


def actions_router(deps: ConsoleDeps) -> APIRouter:
    """``POST /models/{name}/versions/{version}/approve|reject``."""
    router = APIRouter(tags=["console"], include_in_schema=False)

    @router.post("/models/{name}/versions/{version}/{decision}")
    async def decide(
        request: Request,
        name: ModelName,
        version: Annotated[int, Path(ge=1, le=2**31 - 1)],
        decision: Annotated[str, Path(pattern="^(approve|reject)$")],
        body: Annotated[DecisionIn | None, Body()] = None,
    ) -> JSONResponse:
        authorization = request.headers.get("authorization", "")
        if not authorization.lower().startswith("bearer "):
            return JSONResponse({"detail": "send your own token: Authorization: Bearer"}, 401)
        status, detail = await deps.upstream.decide(
            name, version, decision, body.comment if body else None, authorization
        )
        return JSONResponse({"detail": detail}, status_code=status)

    return router
