"""PostgreSQL: drift episodes, at most one open per model (a unique partial index)."""

from __future__ import annotations

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.monitoring.adapters.tables import drift_episodes
from driftline.monitoring.records import Episode


class PostgresEpisodes:
    """Open, advance and close drift episodes inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_episode(self, model: str) -> Episode | None:
        """The model's open drift episode, if any (locked for this transaction)."""
        query = (
            select(drift_episodes)
            .where(drift_episodes.c.model == model, drift_episodes.c.resolved_at.is_(None))
            .with_for_update()
        )
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        return Episode(
            row.drift_id, row.version, row.detected_at, row.clean_streak,
            bool(row.performance), row.opened_seq,
        )  # fmt: skip

    async def open(self, model: str, episode: Episode) -> None:
        """Start a drift episode."""
        await self.session.execute(
            insert(drift_episodes).values(
                drift_id=episode.drift_id, model=model, version=episode.version,
                detected_at=episode.detected_at, clean_streak=0,
                performance=episode.performance, opened_seq=episode.opened_seq,
            )
        )  # fmt: skip

    async def update(
        self,
        drift_id: str,
        clean_streak: int,
        *,
        resolution: str | None = None,
        performance: bool | None = None,
    ) -> None:
        """Count clean windows of an open episode, mark it a performance one, or close it."""
        values: dict[str, object] = {"clean_streak": clean_streak}
        if performance is not None:
            values["performance"] = performance
        if resolution is not None:
            values |= {"resolution": resolution, "resolved_at": func.now()}
        await self.session.execute(
            update(drift_episodes).where(drift_episodes.c.drift_id == drift_id).values(**values)
        )
