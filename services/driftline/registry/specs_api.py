"""Spec endpoints: apply a model spec, read the newest one and its history."""

from __future__ import annotations

from fastapi import APIRouter, Header, HTTPException, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError

from driftline.registry.adapters.postgres import PostgresSpecHistory
from driftline.registry.models import SpecRecord
from driftline.registry.schemas import ACTOR_HEADER, ModelName, SpecApplied, user_actor
from driftline.registry.workflow import apply_spec
from driftline.runtime.service import ServiceRuntime
from driftline.runtime.trainer_policy import TrainerNotAllowedError, TrainerPolicy, trainer_policy
from driftline_contracts.modelspec import ModelSpec

APPLY_ATTEMPTS = 3  # concurrent applies of one model may race for a spec version number


def refuse_disallowed_trainer(spec: ModelSpec, policy: TrainerPolicy) -> None:
    """A 422 like any invalid field when the operator's policy refuses the spec's trainer."""
    try:
        policy.check(spec.trainer)
    except TrainerNotAllowedError as exc:
        loc = ("body", *exc.field.split("."))
        error = {"type": exc.code, "loc": loc, "msg": exc.reason, "input": None}
        raise RequestValidationError([error]) from exc


def specs_router(runtime: ServiceRuntime) -> APIRouter:
    """POST /v1/specs and the spec reads."""
    router = APIRouter(prefix="/v1/specs", tags=["specs"])
    policy = trainer_policy(runtime.settings.trainers)

    async def _apply(spec: ModelSpec, actor: str) -> SpecApplied:
        async with runtime.units(actor=actor) as uow:

            async def emit(event: object) -> str:
                return (await uow.emit(event, actor=actor)).id

            record, new = await apply_spec(spec, actor, PostgresSpecHistory(uow.session), emit)
        return SpecApplied(**record.model_dump(), status="applied" if new else "unchanged")

    @router.post(
        "", status_code=201, summary="Apply a model spec (unchanged spec: 200, announced again).",
        responses={200: {"description": "Same spec as the newest: nothing stored; announced "
                                       "again so a failed training run is retried."},
                   422: {"description": "Invalid spec (the field is named), a trainer the "
                         "operator's policy refuses, or bad actor."}},
    )  # fmt: skip
    async def post_spec(
        spec: ModelSpec, response: Response,
        actor_header: str | None = Header(None, alias=ACTOR_HEADER, description="user:NAME"),
    ) -> SpecApplied:  # fmt: skip
        try:
            actor = user_actor(actor_header)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        refuse_disallowed_trainer(spec, policy)
        for attempt in range(APPLY_ATTEMPTS):
            try:
                outcome = await _apply(spec, actor)
                break
            except IntegrityError:
                if attempt == APPLY_ATTEMPTS - 1:
                    raise
        if outcome.status == "unchanged":
            response.status_code = 200
        return outcome

    @router.get("/{name}", summary="The newest spec of a model.",
                responses={404: {"description": "No spec applied for the model."}})  # fmt: skip
    async def latest_spec(name: str = ModelName) -> SpecRecord:
        async with runtime.units() as uow:
            record = await PostgresSpecHistory(uow.session).latest(name)
        if record is None:
            raise HTTPException(404, f"no spec applied for model {name!r}")
        return record

    @router.get("/{name}/history", summary="Every spec of a model, oldest first.",
                responses={404: {"description": "No spec applied for the model."}})  # fmt: skip
    async def spec_history(name: str = ModelName) -> list[SpecRecord]:
        async with runtime.units() as uow:
            records = await PostgresSpecHistory(uow.session).history(name)
        if not records:
            raise HTTPException(404, f"no spec applied for model {name!r}")
        return records

    return router
