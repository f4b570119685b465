"""The digest table: PostgreSQL's record of every signed digest, in number order."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from driftline.audit.digests import Digest

audit_digest = Table(
    "audit_digest",
    MetaData(),
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("first_seq", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False, unique=True),
    Column("head_hash", String(64), nullable=False),
    Column("previous_signature", String(64), nullable=False),
    Column("signed_at", String(64), nullable=False),
    Column("signature", String(64), nullable=False),
)
_COLUMNS = (
    *("number", "first_seq", "last_seq", "head_hash", "previous_signature"),
    *("signed_at", "signature"),
)


def _digest(row: object) -> Digest:
    return Digest(**{name: getattr(row, name) for name in _COLUMNS})


class PostgresDigests:
    """Signed digests in PostgreSQL, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def latest(self) -> Digest | None:
        """The newest digest, or None before the first."""
        stmt = select(audit_digest).order_by(audit_digest.c.number.desc()).limit(1)
        row = (await self._session.execute(stmt)).first()
        return _digest(row) if row else None

    async def after(self, number: int) -> list[Digest]:
        """Digests numbered above ``number``, in order."""
        stmt = select(audit_digest).where(audit_digest.c.number > number)
        rows = await self._session.execute(stmt.order_by(audit_digest.c.number))
        return [_digest(r) for r in rows]

    async def append(self, digest: Digest) -> None:
        """Record ``digest`` (the caller holds the chain's append lock)."""
        values = {name: getattr(digest, name) for name in _COLUMNS}
        await self._session.execute(insert(audit_digest).values(**values))


async def all_digests(conn: AsyncConnection) -> list[Digest]:
    """Every digest in number order (for verification)."""
    rows = await conn.execute(select(audit_digest).order_by(audit_digest.c.number))
    return [_digest(r) for r in rows]
