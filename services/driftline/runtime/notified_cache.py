"""A per-process read cache that PostgreSQL empties the moment a writer commits a change.

Every write that changes what the cache holds sends ``NOTIFY`` on the cache's channel in its
own transaction (``notify_changed``), so PostgreSQL delivers it exactly when the change
commits, to every replica. Each process keeps one connection that ``LISTEN``\\ s
(``listen_for_changes``); any notification empties the cache. The cache answers only while
that connection is known to be alive (pinged every ``ping_s``); otherwise every read goes to
PostgreSQL, as without a cache. A load that raced with a notification is not kept
(generation check), so a reader never caches a value older than a committed change it was
told about. Readers that miss the same key together share one load (under load, a change
would otherwise send every request in flight to PostgreSQL at once); a reader arriving after
a notification never joins a load that started before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from tenacity import RetryCallState

from driftline.runtime.logging import get_logger
from driftline.runtime.retry import RetryPolicy, failure_of, is_failure

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
log = get_logger(__name__)
RECONNECT_MAX_S = 10.0
"""Longest pause between reconnection attempts of the change listener."""


async def notify_changed(session: AsyncSession, channel: str, payload: str = "") -> None:
    """Tell every listener on ``channel``, on commit of ``session``'s transaction."""
    await session.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
    )


class NotifiedCache(Generic[K, V]):
    """Values by key, trusted only while the change listener is connected.

    ``keep(value)`` decides whether a loaded value is worth keeping (e.g. not for unknown
    names, so made-up keys cannot grow the cache); ``max_entries`` bounds it regardless.
    """

    def __init__(
        self, keep: Callable[[V], bool] = lambda _: True, max_entries: int = 10_000
    ) -> None:
        self._entries: dict[K, V] = {}
        self._keep = keep
        self._max_entries = max_entries
        self._generation = 0
        self._live = False
        self._loading: dict[tuple[K, int], asyncio.Task[V]] = {}

    @property
    def live(self) -> bool:
        """Whether cached answers are trusted (the listener is connected)."""
        return self._live

    async def get(self, key: K, load: Callable[[K], Awaitable[V]]) -> V:
        """The cached value of ``key``, or ``load(key)`` (kept if nothing changed since); while
        live, concurrent misses of ``key`` in one generation share one load."""
        if not self._live:
            return await load(key)
        found = self._entries.get(key)
        if found is not None:
            return found
        flight = (key, self._generation)
        task = self._loading.get(flight)
        if task is None:
            task = asyncio.ensure_future(self._load(key, load, self._generation))
            self._loading[flight] = task
            task.add_done_callback(lambda done: self._landed(flight, done))
        return await asyncio.shield(task)  # a cancelled reader leaves the load to the others

    def _landed(self, flight: tuple[K, int], task: asyncio.Task[V]) -> None:
        """The load is over: later misses load afresh; its error is taken even when every
        reader of it was cancelled (so it is not reported as never retrieved)."""
        self._loading.pop(flight, None)
        if not task.cancelled():
            task.exception()

    async def _load(self, key: K, load: Callable[[K], Awaitable[V]], generation: int) -> V:
        loaded = await load(key)
        if self._live and generation == self._generation and self._keep(loaded):
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[key] = loaded
        return loaded

    def invalidate(self, *_: Any) -> None:
        """Forget everything (something changed); also an asyncpg listener callback."""
        self._generation += 1
        self._entries.clear()

    def set_live(self, live: bool) -> None:
        """Trust the cache from now on (listener up) or stop trusting it (listener down)."""
        self.invalidate()
        self._live = live


async def listen_for_changes(
    engine: AsyncEngine, channel: str, cache: NotifiedCache[Any, Any], ping_s: float = 1.0
) -> None:
    """Keep a ``LISTEN`` connection on ``channel`` feeding ``cache`` until cancelled; while
    PostgreSQL is away, reconnect with a growing back-off (up to ``RECONNECT_MAX_S``); each
    connection that was live starts the back-off afresh."""
    policy = RetryPolicy("database", initial_s=ping_s, max_s=RECONNECT_MAX_S)

    def lost(state: RetryCallState) -> None:  # an outage: serve uncached and reconnect
        log.warning("change listener lost, reconnecting", channel=channel,
                    error=repr(failure_of(state)), retry_in_s=state.upcoming_sleep)  # fmt: skip

    while True:
        await policy.call(
            lambda: _listen(engine, channel, cache, ping_s), retry_on=is_failure, on_retry=lost
        )


async def _listen(
    engine: AsyncEngine, channel: str, cache: NotifiedCache[Any, Any], ping_s: float
) -> None:
    """Listen until the connection fails: raises if it never was live, else returns."""
    live = False
    try:
        async with engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            if raw is None:
                raise ConnectionError("no driver connection to listen on")
            await raw.add_listener(channel, cache.invalidate)
            cache.set_live(live := True)
            try:
                while True:  # a heartbeat, not a retry: a lost connection ends it
                    await asyncio.sleep(ping_s)
                    async with asyncio.timeout(ping_s * 5):
                        await raw.fetchval("SELECT 1")
            finally:
                cache.set_live(False)
                if not raw.is_closed():
                    await raw.remove_listener(channel, cache.invalidate)
    except Exception as exc:
        if not live:
            raise
        log.warning("change listener lost, reconnecting", channel=channel, error=repr(exc),
                    retry_in_s=ping_s)  # fmt: skip
        await asyncio.sleep(ping_s)
