"""Model endpoints: the catalog of models and versions, aliases, manual approval."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, HTTPException, Path, Response

from driftline.registry.adapters.postgres import PostgresModelVersions, PostgresSpecHistory
from driftline.registry.alias_reads import AliasKey, RegistryDeps
from driftline.registry.core import APPROVER_ROLE, DecisionRefusedError, NotAnApproverError
from driftline.registry.models import Alias, ModelVersion
from driftline.registry.schemas import (
    ACTOR_HEADER,
    ANONYMOUS,
    ROLE_HEADER,
    DecisionIn,
    DecisionOut,
    ModelDetail,
    ModelName,
    ModelSummary,
    OverrideIn,
    VersionDetail,
    VersionNumber,
    user_actor,
)
from driftline.registry.workflow import UnknownVersionError, decide_manually, override_rejection
from driftline.runtime.service import ServiceRuntime

OptionalNote = Annotated[DecisionIn | None, Body(description="Optional comment.")]
Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"description": "No such model, or no such version of it."}}
DECISION: Responses = {
    403: {"description": f"No {ROLE_HEADER}: approver, or no {ACTOR_HEADER}: user:NAME."},
    404: NOT_FOUND[404],
    409: {"description": "The approver trained the version, or it is not pending."},
}


def _not_found(model: str, version: int | None = None) -> HTTPException:
    what = f"model {model!r}" if version is None else f"model {model!r} version {version}"
    return HTTPException(404, f"{what} not found")


def catalog_router(runtime: ServiceRuntime) -> APIRouter:
    """The read side: models, versions, aliases."""
    router = APIRouter(prefix="/v1/models", tags=["models"])

    @router.get("", summary="List models with their newest spec, versions and champion.")
    async def list_models() -> list[ModelSummary]:
        async with runtime.units() as uow:
            versions = PostgresModelVersions(uow.session)
            specs = await PostgresSpecHistory(uow.session).models()
            counts, champions = await versions.summaries(), await versions.champions()
        return [ModelSummary(
            name=name, spec_version=specs[name].version if name in specs else None,
            spec_hash=specs[name].spec_hash if name in specs else None,
            versions=counts.get(name, (0, 0))[0], latest_version=counts.get(name, (0, None))[1],
            champion=champions.get(name),
        ) for name in sorted({*specs, *counts})]  # fmt: skip

    @router.get("/{name}", summary="One model: spec, aliases, rollbacks.", responses=NOT_FOUND)
    async def get_model(name: str = ModelName) -> ModelDetail:
        async with runtime.units() as uow:
            versions = PostgresModelVersions(uow.session)
            spec = await PostgresSpecHistory(uow.session).latest(name)
            count, latest = len(await versions.versions(name)), await versions.latest_number(name)
            aliases, rollbacks = await versions.aliases(name), await versions.rollbacks(name)
        if spec is None and count == 0:
            raise _not_found(name)
        champion = next((a.version for a in aliases if a.alias == "champion"), None)
        return ModelDetail(
            name=name, spec_version=spec.version if spec else None,
            spec_hash=spec.spec_hash if spec else None, versions=count,
            latest_version=latest or None, champion=champion, spec=spec, aliases=aliases,
            rollbacks=rollbacks,
        )  # fmt: skip

    @router.get("/{name}/versions", summary="Versions of a model, oldest first.",
                responses=NOT_FOUND)  # fmt: skip
    async def list_versions(name: str = ModelName) -> list[ModelVersion]:
        async with runtime.units() as uow:
            found = await PostgresModelVersions(uow.session).versions(name)
        if not found:
            raise _not_found(name)
        return found

    @router.get("/{name}/versions/{version}", summary="One version: lineage, metrics, gates.",
                responses=NOT_FOUND)  # fmt: skip
    async def get_version(name: str = ModelName, version: int = VersionNumber) -> VersionDetail:
        async with runtime.units() as uow:
            versions = PostgresModelVersions(uow.session)
            found = await versions.get(name, version)
            aliases, rollbacks = await versions.aliases(name), await versions.rollbacks(name)
        if found is None:
            raise _not_found(name, version)
        return VersionDetail(
            **found.model_dump(), aliases=[a.alias for a in aliases if a.version == version],
            rollbacks=[r for r in rollbacks if r.version == version],
        )  # fmt: skip

    @router.get("/{name}/aliases", summary="Aliases of a model: champion, previous.",
                responses=NOT_FOUND)  # fmt: skip
    async def get_aliases(name: str = ModelName) -> list[Alias]:
        async with runtime.units() as uow:
            versions = PostgresModelVersions(uow.session)
            aliases, latest = await versions.aliases(name), await versions.latest_number(name)
        if not aliases and latest == 0:
            raise _not_found(name)
        return aliases

    async def by_alias(key: AliasKey) -> bytes | None:
        name, alias = key
        async with runtime.units() as uow:
            versions = PostgresModelVersions(uow.session)
            named = await versions.aliases(name)
            pointed = next((a.version for a in named if a.alias == alias), None)
            found = None if pointed is None else await versions.get(name, pointed)
        if found is None:
            return None
        detail = VersionDetail(
            **found.model_dump(), aliases=[a.alias for a in named if a.version == pointed]
        )
        return detail.model_dump_json().encode()

    @router.get("/{name}/aliases/{alias}", summary="The version an alias points at (one read).",
                response_model=VersionDetail, responses=NOT_FOUND)  # fmt: skip
    async def get_by_alias(
        name: str = ModelName, alias: str = Path(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    ) -> Response:
        """Served from the per-process cache while its change listener is connected."""
        deps: RegistryDeps = runtime.deps
        answer = await deps.by_alias.get((name, alias), by_alias)
        if answer is None:
            raise HTTPException(404, f"model {name!r} has no alias {alias!r}")
        return Response(answer, media_type="application/json")

    return router


def approval_router(runtime: ServiceRuntime) -> APIRouter:
    """Manual approval: an approver other than the trainer approves or rejects."""
    router = APIRouter(prefix="/v1/models", tags=["approval"])

    async def decide(
        name: str, version: int, approve: bool, body: DecisionIn | None,
        actor_header: str | None, role: str | None, override: str | None = None,
    ) -> DecisionOut:  # fmt: skip
        try:
            actor = user_actor(actor_header)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        comment = body.comment if body else None
        try:
            if actor == ANONYMOUS:
                raise NotAnApproverError(f"an approval needs {ACTOR_HEADER}: user:NAME")
            if role != APPROVER_ROLE:  # before any lookup: no hints to whoever may not decide
                raise NotAnApproverError(f"deciding on a version needs the {APPROVER_ROLE!r} role")
            async with runtime.units(actor=actor) as uow:
                versions = PostgresModelVersions(uow.session)
                specs = PostgresSpecHistory(uow.session)
                if override is not None:
                    decision = await override_rejection(name, version, actor=actor, role=role,
                        reason=override, versions=versions, specs=specs)  # fmt: skip
                else:
                    decision = await decide_manually(
                        name, version, approve=approve, actor=actor, role=role, comment=comment,
                        versions=versions, specs=specs,
                    )  # fmt: skip
                # caused by the version's ModelTrained, as an automatic decision is: the
                # lineage of what follows reaches the run and its data
                envelope = await uow.emit(decision.event, actor=actor, caused_by=decision.caused_by)
        except UnknownVersionError as exc:
            raise HTTPException(404, str(exc)) from exc
        except NotAnApproverError as exc:
            raise HTTPException(403, str(exc)) from exc
        except DecisionRefusedError as exc:
            raise HTTPException(409, str(exc)) from exc
        return DecisionOut(model=name, version=version, decided_by=actor, event_id=envelope.id,
                           status="approved" if approve else "rejected")  # fmt: skip

    @router.post("/{name}/versions/{version}/approve", summary="Approve a pending version.",
                 responses=DECISION)  # fmt: skip
    async def approve(
        name: str = ModelName, version: int = VersionNumber, body: OptionalNote = None,
        actor: str | None = Header(None, alias=ACTOR_HEADER, description="user:NAME"),
        role: str | None = Header(None, alias=ROLE_HEADER, description="approver"),
    ) -> DecisionOut:  # fmt: skip
        return await decide(name, version, True, body, actor, role)

    @router.post("/{name}/versions/{version}/reject", summary="Reject a pending version.",
                 responses=DECISION)  # fmt: skip
    async def reject(
        name: str = ModelName, version: int = VersionNumber, body: OptionalNote = None,
        actor: str | None = Header(None, alias=ACTOR_HEADER, description="user:NAME"),
        role: str | None = Header(None, alias=ROLE_HEADER, description="approver"),
    ) -> DecisionOut:  # fmt: skip
        return await decide(name, version, False, body, actor, role)

    @router.post("/{name}/versions/{version}/override",
                 summary="Approve a version its gates rejected, with a reason (audited).",
                 responses={**DECISION, 409: {"description": "Not rejected by its gates, or "
                            "the approver trained it."}})  # fmt: skip
    async def override(
        body: OverrideIn, name: str = ModelName, version: int = VersionNumber,
        actor: str | None = Header(None, alias=ACTOR_HEADER, description="user:NAME"),
        role: str | None = Header(None, alias=ROLE_HEADER, description="approver"),
    ) -> DecisionOut:  # fmt: skip
        return await decide(name, version, True, None, actor, role, override=body.reason)

    return router
