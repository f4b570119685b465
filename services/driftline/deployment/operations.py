"""Operator routes: the shadow report, manual promotion, and batch-scoring requests."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from driftline.deployment.auth import (
    ACTOR_HEADER,
    ROLE_HEADER,
    NotAllowedError,
    NotAuthenticatedError,
    promoter,
)
from driftline.deployment.deps import DeploymentDeps
from driftline.deployment.errors import (
    NoChallengerError,
    NoShadowError,
    UnknownModelError,
    UnknownVersionError,
)
from driftline.deployment.rollout.approval_refs import approval_of
from driftline.deployment.rollout.ports import Emit
from driftline.deployment.rollout.postgres import PostgresRolloutRepository
from driftline.deployment.rollout.promotion import promote_challenger, promote_version
from driftline.deployment.shadow.report import ShadowReport, shadow_report
from driftline.runtime.service import ServiceRuntime
from driftline.runtime.storage import StoreUnavailable, UriNotAllowed
from driftline.runtime.uow import UnitOfWork
from driftline_contracts.events.deployment import BatchScoringRequested
from driftline_contracts.values import Identifier, ModelRef, Name, Sha256, ShortText, Uri


class PromoteRequest(BaseModel):
    """Optionally, the challenger version the operator means (409 if another one runs)."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, ge=1, description="Expected challenger version.")


class PromoteVersionRequest(BaseModel):
    """Why this version goes back to production (kept in ModelPromoted and the audit)."""

    model_config = ConfigDict(extra="forbid")

    reason: ShortText = Field(min_length=1, description="Why, e.g. 'v7 misroutes refunds'.")


class Promoted(BaseModel):
    """The promotion that happened."""

    model: str
    version: int = Field(description="New champion.")
    previous: int | None = Field(description="Champion it replaced.")
    promoted_by: str
    event_id: str


class BatchRequest(BaseModel):
    """A dataset object to score; the job's result comes as BatchScored / BatchScoringFailed."""

    model_config = ConfigDict(extra="forbid")

    input_uri: Uri = Field(description="CSV or Parquet object inside the platform's bucket.")
    format: Literal["csv", "parquet"] | None = Field(None, description="Default: by extension.")
    sha256: Sha256 | None = Field(None, description="Verified before scoring when given.")
    variant: Literal["champion", "canary"] = Field("champion", description="Who scores.")
    id_column: Name | None = Field(None, description="Column copied to the predictions file.")
    job_id: Identifier | None = Field(None, description="Default: a new id.")


class BatchAccepted(BaseModel):
    """The job was queued as a BatchScoringRequested event."""

    model: str
    job_id: str
    event_id: str


def _promoter_or_refusal(actor: str | None, role: str | None) -> str:
    """The acting user if they may promote; else the 401/403/422 that says why not."""
    try:
        return promoter(actor, role)
    except NotAuthenticatedError as exc:
        raise HTTPException(401, str(exc)) from exc
    except NotAllowedError as exc:
        raise HTTPException(403, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


def caused_by_approval(uow: UnitOfWork[Any]) -> Emit:
    """``uow.emit`` for a person's promotion: caused by the promoted version's approval, so
    the promotion's lineage reaches the run and the data (see ``approval_refs``)."""

    async def emit(event: Any) -> object:
        return await uow.emit(event, caused_by=await approval_of(uow.session, event.model))

    return emit


def operations_router(runtime: ServiceRuntime) -> APIRouter:
    """Routes for operators and pipelines next to the serving API."""
    router = APIRouter(prefix="/v1/models/{name}", tags=["rollout and batch"])
    deps: DeploymentDeps = runtime.deps

    @router.get(
        "/shadow",
        summary="The latest shadow comparison: paired answers, agreement, judge verdict.",
        responses={404: {"description": "The model never ran a shadow step."}},
    )
    async def shadow_route(name: str) -> ShadowReport:
        try:
            return await shadow_report(runtime.units, name, deps.mirror)
        except NoShadowError as exc:
            raise HTTPException(404, str(exc)) from exc

    @router.post(
        "/promote",
        summary="Promote the running challenger now (approver or admin).",
        responses={
            401: {"description": f"No {ACTOR_HEADER}."},
            403: {"description": f"{ROLE_HEADER} is not approver or admin."},
            404: {"description": "Unknown model."},
            409: {"description": "No running challenger, or not the version named."},
        },
    )
    async def promote_route(
        name: str,
        body: PromoteRequest | None = None,
        actor: Annotated[str | None, Header(alias=ACTOR_HEADER)] = None,
        role: Annotated[str | None, Header(alias=ROLE_HEADER)] = None,
    ) -> Promoted:
        user = _promoter_or_refusal(actor, role)
        try:
            async with runtime.units(actor=user) as uow:
                event = await promote_challenger(
                    name, user, body.version if body else None,
                    rollouts=PostgresRolloutRepository(uow.session), emit=caused_by_approval(uow),
                )  # fmt: skip
                event_id = uow.emitted[-1].id
        except UnknownModelError as exc:
            raise HTTPException(404, str(exc)) from exc
        except NoChallengerError as exc:
            raise HTTPException(409, str(exc)) from exc
        previous = event.previous.version if event.previous else None
        return Promoted(
            model=name,
            version=event.model.version,
            previous=previous,
            promoted_by=user,
            event_id=event_id,
        )

    @router.post(
        "/versions/{version}/promote",
        summary="Roll back or re-promote: put a version that loaded before in production.",
        responses={
            401: {"description": f"No {ACTOR_HEADER}."},
            403: {"description": f"{ROLE_HEADER} is not approver or admin."},
            404: {"description": "Unknown model, or the version never loaded here."},
            409: {"description": "A rollout is running, or the version already serves."},
        },
    )
    async def promote_version_route(
        name: str,
        version: Annotated[int, Path(ge=1)],
        body: PromoteVersionRequest,
        actor: Annotated[str | None, Header(alias=ACTOR_HEADER)] = None,
        role: Annotated[str | None, Header(alias=ROLE_HEADER)] = None,
    ) -> Promoted:
        user = _promoter_or_refusal(actor, role)
        try:
            model = ModelRef(name=name, version=version)
        except ValidationError as exc:  # not a model name, so no such model
            raise HTTPException(404, f"model {name!r} has no servable version") from exc
        try:
            async with runtime.units(actor=user) as uow:
                event = await promote_version(
                    model, user, body.reason,
                    rollouts=PostgresRolloutRepository(uow.session), emit=caused_by_approval(uow),
                )  # fmt: skip
                event_id = uow.emitted[-1].id
        except (UnknownModelError, UnknownVersionError) as exc:
            raise HTTPException(404, str(exc)) from exc
        except NoChallengerError as exc:
            raise HTTPException(409, str(exc)) from exc
        previous = event.previous.version if event.previous else None
        return Promoted(model=name, version=version, previous=previous, promoted_by=user,
                        event_id=event_id)  # fmt: skip

    @router.post(
        "/batch",
        status_code=202,
        summary="Score a CSV or Parquet object into a predictions file (asynchronously).",
        responses={
            404: {"description": "No object at input_uri."},
            422: {"description": "input_uri is outside the allowed bucket."},
        },
    )
    async def batch_route(name: str, body: BatchRequest) -> BatchAccepted:
        try:
            if not await deps.store.exists(body.input_uri):
                raise HTTPException(404, f"no object at {body.input_uri}")
        except UriNotAllowed as exc:
            raise HTTPException(422, str(exc)) from exc
        except StoreUnavailable as exc:
            raise HTTPException(503, f"object store unavailable: {exc}") from exc
        job_id = body.job_id or f"batch-{uuid.uuid4().hex[:16]}"
        fields = body.model_dump(exclude={"job_id"})
        try:
            event = BatchScoringRequested(model=name, job_id=job_id, **fields)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        async with runtime.units() as uow:
            envelope = await uow.emit(event)
        return BatchAccepted(model=name, job_id=job_id, event_id=envelope.id)

    return router
