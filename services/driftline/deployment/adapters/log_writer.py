"""Group commit for the prediction log: concurrent requests share one INSERT.

A request hands its rows to ``append`` and waits until they are committed, so an answer is
never returned for a prediction that is not logged (as with a write per request). While one
batch is being written, the rows of every request that arrives meanwhile gather for the
next one: under load a statement carries many requests, at low load each goes alone at once.
The job writes on a connection of its own with one autocommitted ``INSERT … unnest`` per
batch (no pool checkout, no ORM session on the hot path).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from driftline.deployment.adapters.prediction_log import (
    PostgresPredictionLog,
    append_columns,
    append_sql,
)
from driftline.runtime.logging import get_logger
from driftline.runtime.uow import UnitOfWorkFactory

Rows = Sequence[Mapping[str, Any]]
Waiting = list[tuple[Rows, asyncio.Future[None]]]
log = get_logger(__name__)


class WriterStoppedError(RuntimeError):
    """The writer stopped before these rows were committed."""


class PredictionLogWriter:
    """Appends served rows to the prediction log, batching requests that arrive together."""

    def __init__(self) -> None:
        self._pending: Waiting = []
        self._wake = asyncio.Event()
        self._running = False

    async def append(self, units: UnitOfWorkFactory, rows: Rows) -> None:
        """Return once ``rows`` are committed (directly when the batching job is not running)."""
        if not rows:
            return
        if not self._running:
            async with units() as uow:
                await PostgresPredictionLog(uow.session).append(rows)
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((rows, done))
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
            if not batch:
                continue
            columns = append_columns([r for rows, _ in batch for r in rows])
            try:
                await raw.execute(statement, *columns.values())
            except BaseException as exc:  # every waiting request gets the failure
                self._fail(batch, exc)
                raise
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    @staticmethod
    def _fail(batch: Waiting, exc: BaseException | None = None) -> None:
        for _, done in batch:
            if not done.done():
                if isinstance(exc, Exception):
                    done.set_exception(exc)
                else:
                    done.set_exception(WriterStoppedError("prediction log writer stopped"))
