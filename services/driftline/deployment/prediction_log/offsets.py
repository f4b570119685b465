"""The compactor's progress in PostgreSQL: per partition, the next offset to compact and the
range begun from it (its last offset), if one was begun and not yet announced."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.deployment.tables import prediction_log_offsets as offsets


class Position(NamedTuple):
    """Where a partition's compaction stands."""

    next_offset: int
    pending_last: int | None
    """The last offset of the range begun at ``next_offset``: a resumed compactor compacts
    exactly ``next_offset..pending_last`` first (None: no range begun)."""


class PostgresLogOffsets:
    """Where compaction resumes; advanced only by the transaction that announces a range."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def positions(self) -> dict[int, Position]:
        """The position of every partition compacted (or begun) before."""
        rows = await self._session.execute(
            select(offsets.c.partition, offsets.c.next_offset, offsets.c.pending_last)
        )
        return {
            int(r.partition): Position(
                int(r.next_offset), None if r.pending_last is None else int(r.pending_last)
            )
            for r in rows.all()
        }

    async def begin(self, partition: int, first: int, last: int) -> bool:
        """Record ``first..last`` as the range being compacted, before its objects are written;
        False when the partition is no longer at ``first`` or another range was begun there."""
        now = datetime.now(UTC)
        statement = (
            insert(offsets)
            .values(partition=partition, next_offset=first, pending_last=last, updated_at=now)
            .on_conflict_do_update(
                index_elements=[offsets.c.partition],
                set_={"pending_last": last, "updated_at": now},
                where=(offsets.c.next_offset == first)
                & (offsets.c.pending_last.is_(None) | (offsets.c.pending_last == last)),
            )
            .returning(offsets.c.partition)
        )
        return (await self._session.execute(statement)).first() is not None

    async def advance(self, partition: int, first: int, last: int) -> bool:
        """Move ``partition`` past the begun range ``first..last``; False when it is no longer
        at that range (another replica, or an earlier attempt, announced it)."""
        statement = (
            offsets.update()
            .where(
                (offsets.c.partition == partition)
                & (offsets.c.next_offset == first)
                & (offsets.c.pending_last == last)
            )
            .values(next_offset=last + 1, pending_last=None, updated_at=datetime.now(UTC))
            .returning(offsets.c.partition)
        )
        return (await self._session.execute(statement)).first() is not None
