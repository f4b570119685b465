"""The compactor's progress in PostgreSQL: the next offset to compact, per partition."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.deployment.tables import prediction_log_offsets as offsets


class PostgresLogOffsets:
    """Where compaction resumes; advanced only by the transaction that announces a range."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def next_offsets(self) -> dict[int, int]:
        """The next offset to compact of every partition compacted before."""
        rows = await self._session.execute(select(offsets.c.partition, offsets.c.next_offset))
        return {int(r.partition): int(r.next_offset) for r in rows.all()}

    async def advance(self, partition: int, first: int, next_offset: int) -> bool:
        """Move ``partition`` from ``first`` to ``next_offset``; False when it is no longer at
        ``first`` (another replica, or an earlier attempt, compacted that range)."""
        now = datetime.now(UTC)
        statement = (
            insert(offsets)
            .values(partition=partition, next_offset=next_offset, updated_at=now)
            .on_conflict_do_update(
                index_elements=[offsets.c.partition],
                set_={"next_offset": next_offset, "updated_at": now},
                where=offsets.c.next_offset == first,
            )
            .returning(offsets.c.partition)
        )
        return (await self._session.execute(statement)).first() is not None
