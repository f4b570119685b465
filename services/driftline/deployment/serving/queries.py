"""Read-only views for the HTTP API: servable versions and the latest shadow rollout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.deployment.records import Served
from driftline.deployment.tables import canaries, model_versions
from driftline.runtime.rows import typed_rows
from driftline_contracts.values import ArtifactRef, CanaryStep, ModelRef


@dataclass(frozen=True)
class ShadowRollout:
    """A rollout whose plan began with a shadow step, and what its shadow judge said."""

    canary_id: str
    champion_version: int
    challenger_version: int
    status: str
    step: int
    step_started_at: datetime
    started_at: datetime
    report: dict[str, Any] | None

    @property
    def shadowing(self) -> bool:
        """Whether the shadow step is still live."""
        return self.status == "active" and self.step == 0


class PostgresServingQueries:
    """Queries the serving API answers from."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def ready_versions(self, name: str) -> dict[int, Served]:
        """Every loadable version of ``name``, by number."""
        rows = await self._session.execute(
            select(model_versions.c.version, model_versions.c.artifact)
            .where(model_versions.c.model == name, model_versions.c.status == "ready")
            .order_by(model_versions.c.version)
        )
        return {
            v: Served(ModelRef(name=name, version=v), ArtifactRef.model_validate(a))
            for v, a in typed_rows(rows)
        }

    async def latest_shadow(self, name: str) -> ShadowRollout | None:
        """The newest rollout of ``name`` that had a shadow step."""
        rows = await self._session.execute(
            select(canaries).where(canaries.c.model == name).order_by(canaries.c.started_at.desc())
        )
        for row in rows.all():
            steps = [CanaryStep.model_validate(s) for s in row.steps]
            if steps and steps[0].shadow:
                return ShadowRollout(
                    canary_id=row.canary_id,
                    champion_version=row.champion_version,
                    challenger_version=row.challenger_version,
                    status=row.status,
                    step=row.step,
                    step_started_at=row.step_started_at,
                    started_at=row.started_at,
                    report=row.shadow_report,
                )
        return None
