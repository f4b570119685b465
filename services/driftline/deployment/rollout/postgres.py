"""Rollout state in PostgreSQL: canary policies, versions, champions and canaries."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Row, ScalarResult, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.deployment.records import Canary, Deployment, Served
from driftline.deployment.serving.routing_cache import notify_routing_changed
from driftline.deployment.tables import (
    canaries,
    canary_policies,
    champions,
    model_versions,
)
from driftline.runtime.rows import typed_rows
from driftline_contracts.modelspec import CanaryPolicy, MicroBatching
from driftline_contracts.values import ArtifactRef, CanaryStep, ModelRef

# Changing these changes who serves what: replicas drop their routing caches on commit.
ROUTING_COLUMNS = frozenset({"step", "status", "step_started_at"})


class PostgresRolloutRepository:
    """Which version serves each model, and every rollout, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save_policy(
        self, model: str, policy: CanaryPolicy, micro_batching: MicroBatching | None = None
    ) -> None:
        """Insert or replace the canary policy (and micro-batching option) of ``model``;
        replicas reload who serves it, since the batching option is read with it."""
        batching = micro_batching.model_dump() if micro_batching is not None else None
        statement = insert(canary_policies).values(
            model=model, policy=policy.model_dump(), micro_batching=batching
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[canary_policies.c.model],
                set_={
                    "policy": statement.excluded.policy,
                    "micro_batching": statement.excluded.micro_batching,
                    "updated_at": func.now(),
                },
            )
        )
        await notify_routing_changed(self._session, model)

    async def policy(self, model: str) -> CanaryPolicy:
        """The model's canary policy, or the default one when no spec arrived."""
        raw = await self._session.scalar(
            select(canary_policies.c.policy).where(canary_policies.c.model == model)
        )
        return CanaryPolicy.model_validate(raw) if raw is not None else CanaryPolicy()

    async def has_version(self, model: ModelRef) -> bool:
        """Whether ``model`` was already recorded (loaded or refused)."""
        found = await self._session.scalar(
            select(model_versions.c.status).where(
                model_versions.c.model == model.name, model_versions.c.version == model.version
            )
        )
        return found is not None

    async def servable(self, model: ModelRef) -> Served | None:
        """``model`` with its artifact when it loaded (``ready``); None if unknown or refused."""
        artifact = await self._session.scalar(
            select(model_versions.c.artifact).where(
                model_versions.c.model == model.name,
                model_versions.c.version == model.version,
                model_versions.c.status == "ready",
            )
        )
        return Served(model, ArtifactRef.model_validate(artifact)) if artifact else None

    async def record_version(
        self, model: ModelRef, artifact: ArtifactRef, event_id: str, error: str | None = None
    ) -> None:
        """Record an approved version as ``ready`` or, with ``error``, as ``load_failed``."""
        await self._session.execute(
            insert(model_versions)
            .values(
                model=model.name,
                version=model.version,
                artifact=artifact.model_dump(mode="json"),
                status="ready" if error is None else "load_failed",
                load_error=error,
                event_id=event_id,
            )
            .on_conflict_do_nothing()
        )

    async def set_champion(self, model: ModelRef) -> None:
        """Make ``model`` the version serving all traffic outside a canary."""
        statement = insert(champions).values(model=model.name, version=model.version)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[champions.c.model],
                set_={"version": statement.excluded.version, "updated_at": func.now()},
            )
        )
        await notify_routing_changed(self._session, model.name)

    async def start_canary(
        self,
        canary_id: str,
        challenger: ModelRef,
        champion: ModelRef,
        steps: tuple[CanaryStep, ...],
        now: datetime,
        cause: str | None = None,
    ) -> None:
        """Begin a rollout on its first step; ``cause`` is the approving event's envelope."""
        await self._session.execute(
            insert(canaries).values(
                canary_id=canary_id,
                model=challenger.name,
                status="active",
                challenger_version=challenger.version,
                champion_version=champion.version,
                steps=[s.model_dump() for s in steps],
                step=0,
                started_at=now,
                step_started_at=now,
                cause=cause,
            )
        )
        await notify_routing_changed(self._session, challenger.name)

    async def update_canary(self, canary_id: str, **values: Any) -> None:
        """Change a rollout's step, status or last report."""
        await self._session.execute(
            update(canaries).where(canaries.c.canary_id == canary_id).values(**values)
        )
        if ROUTING_COLUMNS & values.keys():
            await notify_routing_changed(self._session, canary_id)

    async def deployment(self, name: str) -> Deployment:
        """The champion and active canary of ``name`` (champion None if none yet)."""
        champion = await self._session.scalar(
            select(champions.c.version).where(champions.c.model == name)
        )
        canary_row = (
            await self._session.execute(
                select(canaries).where(canaries.c.model == name, canaries.c.status == "active")
            )
        ).first()
        deployment = await self._assemble(name, champion, canary_row)
        batching = await self._session.scalar(
            select(canary_policies.c.micro_batching).where(canary_policies.c.model == name)
        )
        if batching is None:
            return deployment
        return replace(deployment, micro_batching=MicroBatching.model_validate(batching))

    async def active_canary_ids(self) -> list[str]:
        """Ids of every active rollout."""
        found: ScalarResult[str] = await self._session.scalars(
            select(canaries.c.canary_id).where(canaries.c.status == "active")
        )
        return list(found)

    async def active_canaries(self) -> list[tuple[str, str | None]]:
        """(canary id, cause envelope JSON) of every active rollout."""
        rows = await self._session.execute(
            select(canaries.c.canary_id, canaries.c.cause).where(canaries.c.status == "active")
        )
        return [(r.canary_id, r.cause) for r in rows]

    async def lock_canary(self, canary_id: str) -> Canary | None:
        """The rollout, locked for this transaction; None if ended or another replica holds it."""
        row = (
            await self._session.execute(
                select(canaries)
                .where(canaries.c.canary_id == canary_id, canaries.c.status == "active")
                .with_for_update(skip_locked=True)
            )
        ).first()
        if row is None:
            return None
        return (await self._assemble(row.model, row.champion_version, row)).canary

    async def last_report(self, canary_id: str) -> dict[str, Any] | None:
        """The judge's last report on the rollout, if it was judged."""
        found: dict[str, Any] | None = await self._session.scalar(
            select(canaries.c.last_report).where(canaries.c.canary_id == canary_id)
        )
        return found

    async def lock_active(self, name: str) -> Canary | None:
        """The model's active rollout, locked for this transaction (waits for the judge)."""
        row = (
            await self._session.execute(
                select(canaries)
                .where(canaries.c.model == name, canaries.c.status == "active")
                .with_for_update()
            )
        ).first()
        if row is None:
            return None
        return (await self._assemble(row.model, row.champion_version, row)).canary

    async def _assemble(self, name: str, champion: int | None, canary: Row | None) -> Deployment:
        wanted = {v for v in (champion, canary and canary.challenger_version) if v}
        if canary is not None:
            wanted.add(canary.champion_version)
        rows = await self._session.execute(
            select(model_versions.c.version, model_versions.c.artifact).where(
                model_versions.c.model == name, model_versions.c.version.in_(wanted)
            )
        )
        served = {
            v: Served(ModelRef(name=name, version=v), ArtifactRef.model_validate(a))
            for v, a in typed_rows(rows)
        }
        return Deployment(
            name=name,
            champion=served.get(champion) if champion else None,
            canary=_canary(canary, served) if canary is not None else None,
        )


def _canary(row: Row, served: dict[int, Served]) -> Canary:
    return Canary(
        canary_id=row.canary_id,
        challenger=served[row.challenger_version],
        champion=served[row.champion_version],
        steps=tuple(CanaryStep.model_validate(s) for s in row.steps),
        step=row.step,
        started_at=row.started_at,
        step_started_at=row.step_started_at,
    )
