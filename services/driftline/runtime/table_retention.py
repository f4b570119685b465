"""Retention of the runtime's tables in every service schema, so neither grows without bound.

**Outbox.** Rows published more than ``outbox.retention_days`` ago go: a published row is on
Kafka (and its copy on the audit topic), and nothing reads it again. An unpublished row is
never deleted, whatever its age (the relay publishes it first).

**Inbox.** Kept whole unless ``inbox.retention_days`` is set. It is what makes a redelivered
or replayed event harmless, and a consumer group whose offsets expired starts again from the
beginning of its topics: an inbox row may only go once its topic can no longer deliver the
event, so set it above the topics' ``retention.ms``.

A pass deletes the oldest qualifying rows, ``CHUNK_ROWS`` per statement and transaction,
until a statement finds fewer. Every replica runs the jobs; two deleting the same rows is
harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncEngine

from driftline.runtime.logging import get_logger
from driftline.runtime.tables import inbox, outbox

PRUNE_EVERY_S = 3600.0
"""Rest between passes."""
CHUNK_ROWS = 5000
"""Rows deleted per statement, at most."""
log = get_logger(__name__)

PRUNE_OUTBOX = text(f"""
    WITH gone AS (
        DELETE FROM {outbox.name} WHERE seq IN (
            SELECT seq FROM {outbox.name}
            WHERE published_at IS NOT NULL AND published_at < :cutoff
            ORDER BY seq LIMIT :chunk
        )
        RETURNING 1
    )
    SELECT count(*) FROM gone
""")
PRUNE_INBOX = text(f"""
    WITH gone AS (
        DELETE FROM {inbox.name} WHERE ctid IN (
            SELECT ctid FROM {inbox.name} WHERE handled_at < :cutoff LIMIT :chunk
        )
        RETURNING 1
    )
    SELECT count(*) FROM gone
""")


@dataclass
class TableRetention:
    """One table's job state: ``step`` deletes one chunk and says whether the pass goes on
    (a ``BackgroundJob`` step: it rests ``PRUNE_EVERY_S`` once a pass is over)."""

    engine: AsyncEngine
    statement: TextClause
    retention: timedelta
    table: str
    chunk: int = CHUNK_ROWS
    _cutoff: datetime | None = None
    _deleted: int = 0

    async def step(self) -> bool:
        """Delete the next chunk of the pass; False when the pass is over."""
        if self._cutoff is None:
            self._cutoff = datetime.now(UTC) - self.retention
        async with self.engine.begin() as conn:
            params = {"cutoff": self._cutoff, "chunk": self.chunk}
            deleted = int(await conn.scalar(self.statement, params) or 0)
        self._deleted += deleted
        if deleted == self.chunk:
            return True
        if self._deleted:
            log.info("old rows deleted", table=self.table, rows=self._deleted,
                     before=self._cutoff.isoformat())  # fmt: skip
        self._cutoff, self._deleted = None, 0
        return False


def outbox_retention(engine: AsyncEngine, days: float) -> TableRetention:
    """Published outbox rows older than ``days``."""
    return TableRetention(engine, PRUNE_OUTBOX, timedelta(days=days), outbox.name)


def inbox_retention(engine: AsyncEngine, days: float) -> TableRetention:
    """Inbox rows handled more than ``days`` ago."""
    return TableRetention(engine, PRUNE_INBOX, timedelta(days=days), inbox.name)
