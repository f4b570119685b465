"""The batches this process logs rows under, and the committed rows of each, in memory.

Each model version has one open batch; the log writer inserts every successful row with its
batch's id and registers the batch in ``open_prediction_batches``, then hands the committed
rows here as ``PredictionRow`` JSON lines. A batch closes at ``rows`` rows or when its oldest
row waited ``flush_interval_s``; once no write into it is in flight the batch job sends it
from these lines — no row is read back or written a second time. Memory is a shortcut, never
the record: a batch lost with the process, dropped over ``limit`` rows, not wholly known here
(a write that inserted fewer rows than it carried) or whose send failed stays registered in
PostgreSQL, and the recovery pass sends it from there once ``LOG_RECOVER_AFTER_S`` old.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(eq=False)
class PendingBatch:
    """A batch id rows are logged under, and the rows committed in it so far.

    JSON lines, not the requests' objects: bytes are invisible to the garbage collector,
    where thousands of kept feature dicts made its full collections take 200 ms.
    """

    model: str
    version: int
    opened_at: datetime
    batch_id: str = field(default_factory=lambda: f"batch-{uuid.uuid4().hex}")
    request_ids: list[str] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)
    served_at: list[datetime] = field(default_factory=list)
    assigned: int = 0
    """Rows given this id (committed or being written)."""
    writing: int = 0
    """Writes in flight that carry rows of this batch."""
    closed: bool = False
    whole: bool = True
    """False when memory may not hold exactly the batch's logged rows."""
    registered: bool = False
    """A committed write registered it: later writes need not register it again."""

    def registration(self) -> list[object]:
        """``[batch_id, model, version, opened_at]`` for ``open_prediction_batches``."""
        return [self.batch_id, self.model, self.version, self.opened_at]


class UnsentRows:
    """Open and closed batches of this process, by model version; closed ones oldest first."""

    def __init__(
        self, rows: int = 5000, limit: int = 50_000, flush_interval_s: float = 5.0
    ) -> None:
        self._rows = rows
        self._limit = limit
        self._age = timedelta(seconds=flush_interval_s)
        self._open: dict[tuple[str, int], PendingBatch] = {}
        self._closed: deque[PendingBatch] = deque()
        self._full = asyncio.Event()
        self.dropped = 0
        """Batches let go because more than ``limit`` rows waited (recovery sends them)."""

    def assign(self, model: str, versions: Sequence[int], now: datetime) -> list[PendingBatch]:
        """The batch of each row of a request (one per entry of ``versions``), counted as
        being written; a batch that would grow past ``rows`` or is ``flush_interval_s`` old
        closes first (so no row joins a batch old enough for another replica's recovery
        pass, even while this process's batch job is held up)."""
        if versions and versions.count(versions[0]) == len(versions):  # one version: in runs
            return self._assign_run(model, versions[0], len(versions), now)
        return [b for version in versions for b in self._assign_run(model, version, 1, now)]

    def _assign_run(self, model: str, version: int, rows: int, now: datetime) -> list[PendingBatch]:
        """``rows`` rows of one version, filling the open batch up to ``rows`` per batch."""
        batches: list[PendingBatch] = []
        while len(batches) < rows:
            batch = self._open.get((model, version))
            if batch is None or batch.assigned >= self._rows or now - batch.opened_at >= self._age:
                if batch is not None:
                    self._close(batch)
                batch = self._open[(model, version)] = PendingBatch(model, version, now)
            taken = min(rows - len(batches), self._rows - batch.assigned)
            batch.assigned += taken
            batches += [batch] * taken
        return batches

    def writing(self, batches: Sequence[PendingBatch], delta: int) -> None:
        """A write carrying rows of ``batches`` started (+1) or ended (-1)."""
        for batch in {id(b): b for b in batches}.values():
            batch.writing += delta
        if delta < 0 and any(b.closed for b in batches):
            self._full.set()

    def committed(self, batch: PendingBatch, request_id: str, line: bytes, at: datetime) -> None:
        """One committed row of ``batch``."""
        batch.request_ids.append(request_id)
        batch.lines.append(line)
        batch.served_at.append(at)

    def committed_rows(
        self, batch: PendingBatch, request_ids: Sequence[str], lines: Sequence[bytes], at: datetime
    ) -> None:
        """Committed rows of one request, all of ``batch``."""
        batch.request_ids += request_ids
        batch.lines += lines
        batch.served_at += [at] * len(lines)

    def ready(self, now: datetime) -> list[PendingBatch]:
        """Close the open batches that are due; take the closed ones no write is still filling
        (batches memory does not wholly know are let go: recovery sends them)."""
        for batch in list(self._open.values()):
            if batch.assigned and now - batch.opened_at >= self._age:
                self._close(batch)
        taken = []
        while self._closed and self._closed[0].writing == 0:
            batch = self._closed.popleft()
            if batch.whole and batch.lines:
                taken.append(batch)
        self._full.clear()
        return taken

    def _close(self, batch: PendingBatch) -> None:
        del self._open[(batch.model, batch.version)]
        batch.closed = True
        self._closed.append(batch)
        while sum(len(b.lines) for b in self._closed) > self._limit and len(self._closed) > 1:
            self._closed.popleft().whole = False
            self.dropped += 1
        self._full.set()

    async def wait(self, timeout_s: float) -> None:
        """Until a batch closes (or a write into a closed one ends), or ``timeout_s`` passed."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._full.wait()
