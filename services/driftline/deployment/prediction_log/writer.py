"""Group commit for the prediction log: concurrent requests share one INSERT.

A request hands its rows to ``append`` and waits until they are committed, so an answer is
never returned for a prediction that is not logged (as with a write per request): feedback
and a redelivered streaming request find the row as soon as the caller has the answer.
While one batch is being written, the rows of every request that arrives meanwhile gather
for the next one: under load a statement carries many requests, at low load each goes alone
at once. The job writes on a connection of its own with one autocommitted statement per
batch (``insert.py``: no pool checkout, no ORM session on the hot path). Each successful row
is written under its model version's open batch (``unsent``), which keeps the committed rows
as event lines, so the batch job sends them without reading them back or writing them again.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from itertools import chain
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from driftline.deployment.prediction_log.events import served_lines
from driftline.deployment.prediction_log.insert import append_document, append_sql, features_json
from driftline.deployment.prediction_log.postgres import PostgresPredictionLog
from driftline.deployment.prediction_log.unsent import PendingBatch, UnsentRows
from driftline.deployment.prediction_log.write_metrics import Unobserved, WriteObserver
from driftline.deployment.serving.served_rows import ServedRows
from driftline.runtime.logging import get_logger
from driftline.runtime.uow import UnitOfWorkFactory

Waiting = list[tuple[ServedRows, asyncio.Future[None]]]
log = get_logger(__name__)


class WriterStoppedError(RuntimeError):
    """The writer stopped before these rows were committed."""


class PredictionLogWriter:
    """Appends served rows to the prediction log, batching requests that arrive together."""

    def __init__(
        self, unsent: UnsentRows | None = None, observer: WriteObserver | None = None
    ) -> None:
        self.unsent = unsent if unsent is not None else UnsentRows()
        self._observer = observer if observer is not None else Unobserved()
        self._pending: Waiting = []
        self._wake = asyncio.Event()
        self._running = False

    async def append(self, units: UnitOfWorkFactory, served: ServedRows) -> None:
        """Return once ``served`` is committed (directly when the batching job is not running:
        those rows are then sent by the recovery pass, not from memory)."""
        if not len(served):
            return
        if not self._running:
            async with units() as uow:
                await PostgresPredictionLog(uow.session).append([served])
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((served, done))
        self._wake.set()
        await done

    async def run(self, engine: AsyncEngine, *, synchronous_commit: bool = True) -> None:
        """Write whatever waits, batch after batch, until cancelled; reconnects after errors.

        ``synchronous_commit=False`` sets it off on the job's connection only: a write returns
        before its WAL is flushed (PostgreSQL's own trade-off: a server crash may lose the last
        fraction of a second of rows, never corrupt them); everything else stays synchronous.
        """
        statement = append_sql(named=False)
        try:
            while True:
                try:
                    async with engine.connect() as conn:
                        raw = (await conn.get_raw_connection()).driver_connection
                        assert raw is not None
                        if not synchronous_commit:
                            await raw.execute("SET synchronous_commit = off")
                        self._running = True
                        try:
                            await self._serve(raw, statement)
                        finally:  # the connection goes back to the pool as it came
                            if not synchronous_commit and not raw.is_closed():
                                await asyncio.shield(raw.execute("RESET synchronous_commit"))
                except (asyncio.CancelledError, WriterStoppedError):
                    raise
                except Exception as exc:  # connection gone: requests write directly meanwhile
                    self._running = False
                    log.warning("prediction log writer reconnecting", error=repr(exc))
                    await asyncio.sleep(0.5)
        finally:
            self._running = False
            self._fail(self._pending)
            self._pending = []

    async def _serve(self, raw: Any, statement: str) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if batch:
                await self._write(raw, statement, batch)

    async def _write(self, raw: Any, statement: str, batch: Waiting) -> None:
        """One INSERT for every waiting request, its successful rows under their version's
        open batch; then answer the requests and keep the committed rows for sending."""
        started = time.perf_counter()
        served = [s for s, _ in batch]
        now = datetime.now(UTC)
        plans = [self._plan(s, now) for s in served]
        used = [b for b in set(chain.from_iterable(plans)) if b is not None]  # each batch once
        registrations = [b.registration() for b in used if not b.registered]
        ids = [_batch_ids(plan) for plan in plans]
        features = [features_json(s) for s in served]
        self.unsent.writing(used, +1)
        try:
            document = append_document(served, features, ids, registrations)
            status = await raw.execute(statement, document)
        except BaseException as exc:  # every waiting request gets the failure
            self.unsent.writing(used, -1)
            self._fail(batch, exc)
            raise
        for _, done in batch:
            if not done.done():
                done.set_result(None)
        self._observer.written(time.perf_counter() - started, len(batch))
        for b in used:
            b.registered = True
        if _inserted(status) == sum(len(s) for s in served):
            for s, f, plan in zip(served, features, plans, strict=True):
                self._committed(s, served_lines(s, f), plan)
        else:  # a request id logged before: memory would not match the batch, recovery sends it
            for b in used:
                b.whole = False
        self.unsent.writing(used, -1)

    def _committed(
        self, served: ServedRows, lines: list[tuple[int, bytes]], plan: list[PendingBatch | None]
    ) -> None:
        """Keep a request's committed lines in their batches (usually one batch: at once)."""
        first = plan[0] if plan else None
        if first is not None and len(lines) == plan.count(first) == len(plan):
            row_lines = list(map(itemgetter(1), lines))
            self.unsent.committed_rows(first, served.request_ids, row_lines, served.created_at)
            return
        for i, line in lines:  # successful rows: each has its batch
            if (pending := plan[i]) is not None:
                self.unsent.committed(pending, served.request_ids[i], line, served.created_at)

    def _plan(self, served: ServedRows, now: datetime) -> list[PendingBatch | None]:
        """The batch of each row (None for failed rows: logged, never sent)."""
        errors = served.predicted.errors
        if errors.count(None) == len(errors):  # every row answered: the batches in one call
            return list(self.unsent.assign(served.model, served.versions, now))
        ok = [i for i, error in enumerate(errors) if error is None]
        batches = self.unsent.assign(served.model, [served.versions[i] for i in ok], now)
        plan: list[PendingBatch | None] = [None] * len(served)
        for i, b in zip(ok, batches, strict=True):
            plan[i] = b
        return plan

    @staticmethod
    def _fail(batch: Waiting, exc: BaseException | None = None) -> None:
        for _, done in batch:
            if not done.done():
                if isinstance(exc, Exception):
                    done.set_exception(exc)
                else:
                    done.set_exception(WriterStoppedError("prediction log writer stopped"))


def _batch_ids(plan: list[PendingBatch | None]) -> list[str | None]:
    """Each row's batch id (None for a failed row)."""
    if None not in plan:
        return list(map(attrgetter("batch_id"), plan))
    return [b.batch_id if b is not None else None for b in plan]


def _inserted(status: str | None) -> int:
    """Rows an ``INSERT 0 n`` status counts (-1 when there is none)."""
    return int(status.rsplit(" ", 1)[-1]) if status else -1
