"""Apply projected row changes to the read model, inside the handler's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.console.adapters.tables import TABLES
from driftline.console.projection import Change


class PostgresReadModelWriter:
    """Upserts :class:`Change` rows; a ``None`` value keeps the column, the feed never changes."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def apply(self, changes: Sequence[Change]) -> None:
        """Upsert each change in order (later changes see earlier ones)."""
        for change in changes:
            table = TABLES[change.table]
            stmt = insert(table).values(**change.key, **change.values)
            if change.table == "events":
                stmt = stmt.on_conflict_do_nothing(index_elements=list(change.key))
            else:
                stmt = stmt.on_conflict_do_update(
                    index_elements=list(change.key),
                    set_={
                        name: func.coalesce(stmt.excluded[name], table.c[name])
                        for name in change.values
                    },
                )
            await self._session.execute(stmt)
