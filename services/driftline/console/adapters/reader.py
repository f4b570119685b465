"""The read model's queries, one short statement per page section."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncEngine

from driftline.console.adapters.tables import (
    datasets,
    drift_episodes,
    drift_windows,
    events,
    models,
    rollout_steps,
    runs,
    versions,
)
from driftline.console.ports import Row

EVENT_FILTERS = ("type", "subject", "actor")


def _like(text: str) -> str:
    """A substring pattern with LIKE's wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class PostgresReadModel:
    """Reads the console schema through its own engine (the read model is the console's)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _rows(self, stmt: Select[Any]) -> list[Row]:
        async with self._engine.connect() as conn:
            result = await conn.execute(stmt)
            return [dict(row._mapping) for row in result]

    async def models(self, name: str | None, offset: int, limit: int) -> list[Row]:
        stmt = select(models).order_by(models.c.name).offset(offset).limit(limit)
        if name:
            stmt = stmt.where(models.c.name.ilike(_like(name), escape="\\"))
        return await self._rows(stmt)

    async def model(self, name: str) -> Row | None:
        found = await self._rows(select(models).where(models.c.name == name))
        return found[0] if found else None

    async def versions(self, model: str) -> list[Row]:
        stmt = select(versions).where(versions.c.model == model)
        return await self._rows(stmt.order_by(versions.c.version.desc()))

    async def rollout_steps(self, model: str) -> list[Row]:
        stmt = select(rollout_steps).where(rollout_steps.c.model == model)
        return await self._rows(stmt.order_by(rollout_steps.c.time, rollout_steps.c.step))

    async def drift_windows(self, model: str, feature: str | None, limit: int) -> list[Row]:
        stmt = select(drift_windows).where(drift_windows.c.model == model)
        if feature:
            stmt = stmt.where(drift_windows.c.feature == feature)
        rows = await self._rows(stmt.order_by(drift_windows.c.window_end.desc()).limit(limit))
        return rows[::-1]

    async def drift_episodes(self, model: str) -> list[Row]:
        stmt = select(drift_episodes).where(drift_episodes.c.model == model)
        return await self._rows(stmt.order_by(drift_episodes.c.detected_at.desc()))

    async def datasets(
        self, name: str | None, verdict: str | None, offset: int, limit: int
    ) -> list[Row]:
        stmt = select(datasets).order_by(datasets.c.time.desc()).offset(offset).limit(limit)
        if name:
            stmt = stmt.where(datasets.c.name.ilike(_like(name), escape="\\"))
        if verdict:
            stmt = stmt.where(datasets.c.verdict == verdict)
        return await self._rows(stmt)

    async def dataset_version(self, name: str, version: int) -> Row | None:
        stmt = select(datasets).where(
            datasets.c.name == name, datasets.c.version == version, datasets.c.verdict == "accepted"
        )
        found = await self._rows(stmt.order_by(datasets.c.time.desc()).limit(1))
        return found[0] if found else None

    async def runs(self, model: str | None, offset: int, limit: int) -> list[Row]:
        order = runs.c.started_at.desc().nulls_last(), runs.c.run_id
        stmt = select(runs).order_by(*order).offset(offset).limit(limit)
        if model:
            stmt = stmt.where(runs.c.model.ilike(_like(model), escape="\\"))
        return await self._rows(stmt)

    async def runs_by_id(self, run_ids: Sequence[str]) -> list[Row]:
        found = {
            r["run_id"]: r
            for r in await self._rows(select(runs).where(runs.c.run_id.in_(list(run_ids))))
        }
        return [found[i] for i in run_ids if i in found]

    async def events(
        self, filters: dict[str, str], after: int, offset: int, limit: int
    ) -> list[Row]:
        stmt = select(events)
        for column in EVENT_FILTERS:
            if filters.get(column):
                stmt = stmt.where(events.c[column].ilike(_like(filters[column]), escape="\\"))
        if after > 0:
            stmt = stmt.where(events.c.position > after).order_by(events.c.position)
            return await self._rows(stmt.limit(limit))
        stmt = stmt.order_by(events.c.position.desc()).offset(offset).limit(limit)
        return await self._rows(stmt)
