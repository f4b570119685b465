"""Retention of the PostgreSQL prediction log: rows older than ``LOG_RETENTION_DAYS`` go, once
sent, so ``predictions`` and ``shadow_predictions`` do not grow without bound.

A pass walks each table from its oldest id, a chunk of ids per statement (each its own
transaction, so a pass never holds many row locks or one long transaction), and deletes the
chunk's rows served before the cutoff that need nothing more: a failed row (never sent), or a
row whose batch was sent (it has a batch id no longer registered as open). A row still unsent
(no batch id yet, or its batch still open) is kept whatever its age: the recovery pass sends
it first. Ids grow with time, so the pass ends at the first chunk holding a row served after
the cutoff. Every replica runs the job; two deleting the same chunk is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from driftline.deployment.tables import open_prediction_batches, predictions, shadow_predictions
from driftline.runtime.logging import get_logger
from driftline.runtime.uow import UnitOfWorkFactory

PRUNE_EVERY_S = 3600.0
"""Rest between passes."""
CHUNK_ROWS = 5000
"""Ids looked at per statement."""
TABLES = (predictions.name, shadow_predictions.name)
log = get_logger(__name__)


def prune_sql(table: str) -> str:
    """One chunk of ``table`` (one of ``TABLES``): rows deleted, the chunk's last id, and
    whether it reached rows served after the cutoff (or the table's end)."""
    if table not in TABLES:
        raise ValueError(f"not a prediction log table: {table!r}")
    return f"""
        WITH head AS (
            SELECT id, created_at FROM {table} WHERE id > :after ORDER BY id LIMIT :chunk
        ), gone AS (
            DELETE FROM {table} AS p USING head AS h
            WHERE p.id = h.id AND h.created_at < :cutoff
              AND (p.error IS NOT NULL OR (p.batch_id IS NOT NULL AND NOT EXISTS (
                  SELECT 1 FROM {open_prediction_batches.name} AS o
                  WHERE o.batch_id = p.batch_id)))
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM gone) AS deleted,
               (SELECT max(id) FROM head) AS last_id,
               COALESCE((SELECT bool_or(created_at >= :cutoff) FROM head), true) AS done
    """


@dataclass(frozen=True)
class Chunk:
    """What one statement did."""

    deleted: int
    last_id: int | None
    done: bool


async def prune_chunk(
    units: UnitOfWorkFactory, table: str, cutoff: datetime, after: int, chunk: int = CHUNK_ROWS
) -> Chunk:
    """Delete what may go among the ``chunk`` ids of ``table`` after ``after``."""
    async with units() as uow:
        params = {"after": after, "chunk": chunk, "cutoff": cutoff}
        row = (await uow.session.execute(text(prune_sql(table)), params)).one()
    return Chunk(int(row.deleted), row.last_id, bool(row.done))


@dataclass
class RetentionPass:
    """The job's state: ``step`` prunes one chunk and says whether more of the pass is left
    (a ``BackgroundJob`` step: it rests ``PRUNE_EVERY_S`` once the pass is over)."""

    units: UnitOfWorkFactory
    retention: timedelta
    chunk: int = CHUNK_ROWS
    _left: list[str] = field(default_factory=list)
    _after: int = 0
    _cutoff: datetime = field(default_factory=lambda: datetime.now(UTC))
    _deleted: int = 0

    async def step(self) -> bool:
        """Prune the next chunk; False when the pass is over."""
        if not self._left:  # a new pass
            self._left, self._after = list(TABLES), 0
            self._cutoff = datetime.now(UTC) - self.retention
        table = self._left[0]
        found = await prune_chunk(self.units, table, self._cutoff, self._after, self.chunk)
        self._deleted += found.deleted
        if not found.done and found.last_id is not None:
            self._after = found.last_id
            return True
        if self._deleted:
            log.info("prediction log pruned", table=table, rows=self._deleted,
                     served_before=self._cutoff.isoformat())  # fmt: skip
        self._left.pop(0)
        self._after, self._deleted = 0, 0
        return bool(self._left)
