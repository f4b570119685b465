"""The audit log table: append under a lock (dense seq, one chain), read in order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import fields
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from driftline.audit.core import GENESIS, AuditEntry

audit_log = Table(
    "audit_log",
    MetaData(),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(128), nullable=False, unique=True),
    Column("type", String(256), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("source", String(256), nullable=False),
    Column("actor", String(256), nullable=False),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("correlation_id", String(128), nullable=False),
    Column("causation_id", String(128)),
    Column("payload", LargeBinary, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), server_default=func.now()),
    Column("origin", String(64)),
    Index("ix_audit_log_subject", "subject", "seq"),
    Index("ix_audit_log_correlation", "correlation_id"),
)
_FIELDS = [f.name for f in fields(AuditEntry)]
_APPEND_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('driftline.audit.append'))")


def _entry(row: object) -> AuditEntry:
    return AuditEntry(**{name: getattr(row, name) for name in _FIELDS})


class PostgresAuditLog:
    """Audit entries in PostgreSQL, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def head(self) -> tuple[int, str]:
        """(seq, hash) of the newest entry; (0, GENESIS) when empty. Takes the append lock."""
        await self._session.execute(_APPEND_LOCK)
        row = (
            await self._session.execute(
                select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
            )
        ).first()
        return (int(row.seq), str(row.hash)) if row else (0, GENESIS)

    async def contains(self, event_id: str) -> bool:
        """Whether ``event_id`` is already in the log."""
        found = await self._session.scalar(
            select(audit_log.c.seq).where(audit_log.c.event_id == event_id)
        )
        return found is not None

    async def append(self, entry: AuditEntry) -> None:
        """Insert ``entry`` (its seq and prev_hash come from :meth:`head`)."""
        await self._session.execute(
            insert(audit_log).values(**{name: getattr(entry, name) for name in _FIELDS})
        )

    async def query(
        self,
        *,
        subject: str | None = None,
        type_: str | None = None,
        since: datetime | None = None,
        after_seq: int = 0,
        limit: int = 1000,
    ) -> list[AuditEntry]:
        """Entries in chain order, filtered."""
        stmt = select(audit_log).where(audit_log.c.seq > after_seq)
        if subject:
            stmt = stmt.where(audit_log.c.subject == subject)
        if type_:
            stmt = stmt.where(audit_log.c.type.contains(type_))
        if since:
            stmt = stmt.where(audit_log.c.time >= since)
        rows = await self._session.execute(stmt.order_by(audit_log.c.seq).limit(limit))
        return [_entry(r) for r in rows]

    async def get(self, event_id: str) -> AuditEntry | None:
        """The entry of ``event_id``, or None."""
        row = (
            await self._session.execute(select(audit_log).where(audit_log.c.event_id == event_id))
        ).first()
        return _entry(row) if row else None

    async def by_correlation(self, correlation_id: str, limit: int = 5000) -> list[AuditEntry]:
        """Entries of one lifecycle run, in chain order."""
        stmt = select(audit_log).where(audit_log.c.correlation_id == correlation_id)
        rows = await self._session.execute(stmt.order_by(audit_log.c.seq).limit(limit))
        return [_entry(r) for r in rows]

    async def of_types(
        self,
        types: Sequence[str],
        *,
        since: datetime | None = None,
        after_seq: int = 0,
        limit: int = 5000,
    ) -> list[AuditEntry]:
        """Entries whose type is exactly one of ``types``, in chain order."""
        stmt = select(audit_log).where(audit_log.c.seq > after_seq, audit_log.c.type.in_(types))
        if since:
            stmt = stmt.where(audit_log.c.time >= since)
        rows = await self._session.execute(stmt.order_by(audit_log.c.seq).limit(limit))
        return [_entry(r) for r in rows]

    async def latest_per_subject(
        self, types: Sequence[str], since: datetime | None = None
    ) -> list[AuditEntry]:
        """The newest entry of each subject among ``types`` (one per model)."""
        stmt = select(audit_log).where(audit_log.c.type.in_(types))
        if since:
            stmt = stmt.where(audit_log.c.time >= since)
        stmt = stmt.order_by(audit_log.c.subject, audit_log.c.seq.desc()).ext(
            distinct_on(audit_log.c.subject)
        )
        return [_entry(r) for r in await self._session.execute(stmt)]


async def all_entries(conn: AsyncConnection, batch: int = 5000) -> AsyncIterator[AuditEntry]:
    """Every entry in seq order, streamed in batches (for verification)."""
    last = 0
    while True:
        rows = (
            await conn.execute(
                select(audit_log)
                .where(audit_log.c.seq > last)
                .order_by(audit_log.c.seq)
                .limit(batch)
            )
        ).all()
        if not rows:
            return
        for row in rows:
            yield _entry(row)
        last = int(rows[-1].seq)
