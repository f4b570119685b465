"""PostgreSQL log of refused pipeline arrivals (table ``rejected_arrivals``)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.ingest.models import Arrival, Rejection

metadata = MetaData()
rejected_arrivals = Table(
    "rejected_arrivals",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("name", String(128), nullable=False, index=True),
    Column("uri", String(2048), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("format", String(16), nullable=False),
    Column("code", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("source", String(256), nullable=False),
    Column("actor", String(256), nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)


class PostgresRejectedArrivals:
    """Rejected arrivals in PostgreSQL, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, arrival: Arrival, rejection: Rejection) -> None:
        """Record why ``arrival`` was refused (once per event)."""
        await self._session.execute(
            insert(rejected_arrivals)
            .values(
                event_id=arrival.event_id,
                name=arrival.name,
                uri=arrival.uri,
                sha256=arrival.sha256,
                format=arrival.format,
                code=rejection.code,
                reason=rejection.message,
                source=arrival.source,
                actor=arrival.actor,
            )
            .on_conflict_do_nothing()
        )

    async def of(self, name: str) -> list[dict[str, object]]:
        """Rejections of dataset ``name``, oldest first."""
        rows = await self._session.execute(
            select(rejected_arrivals)
            .where(rejected_arrivals.c.name == name)
            .order_by(rejected_arrivals.c.created_at)
        )
        return [dict(r._mapping) for r in rows]
