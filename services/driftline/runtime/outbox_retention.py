"""Retention of the outbox: rows published more than ``outbox.retention_days`` ago go, so no
service's outbox grows without bound.

A published row is on Kafka (and its copy on the audit topic): nothing reads it again. A pass
deletes the oldest published rows before the cutoff, ``CHUNK_ROWS`` per statement and
transaction, until a statement finds fewer; an unpublished row is never deleted, whatever
its age (the relay publishes it first). Every replica runs the job; two deleting the same
rows is harmless. The inbox is kept whole: it is what makes a replay of a topic from its
beginning harmless, and topics keep their events for as long as the broker is configured to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from driftline.runtime.logging import get_logger
from driftline.runtime.tables import outbox

PRUNE_EVERY_S = 3600.0
"""Rest between passes."""
CHUNK_ROWS = 5000
"""Rows deleted per statement, at most."""
log = get_logger(__name__)

PRUNE_SQL = text(f"""
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


@dataclass
class OutboxRetention:
    """The job's state: ``step`` deletes one chunk and says whether the pass goes on (a
    ``BackgroundJob`` step: it rests ``PRUNE_EVERY_S`` once a pass is over)."""

    engine: AsyncEngine
    retention: timedelta
    chunk: int = CHUNK_ROWS
    _cutoff: datetime | None = None
    _deleted: int = 0

    async def step(self) -> bool:
        """Delete the next chunk of the pass; False when the pass is over."""
        if self._cutoff is None:
            self._cutoff = datetime.now(UTC) - self.retention
        async with self.engine.begin() as conn:
            params = {"cutoff": self._cutoff, "chunk": self.chunk}
            deleted = int(await conn.scalar(PRUNE_SQL, params) or 0)
        self._deleted += deleted
        if deleted == self.chunk:
            return True
        if self._deleted:
            log.info("outbox pruned", rows=self._deleted,
                     published_before=self._cutoff.isoformat())  # fmt: skip
        self._cutoff, self._deleted = None, 0
        return False
