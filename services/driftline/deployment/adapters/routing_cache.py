"""Who serves each model, cached per process and dropped the moment PostgreSQL says it changed.

Every write to rollout state (champion, canary start, step, end) sends ``NOTIFY`` on
``CHANNEL`` in its own transaction, so PostgreSQL delivers it exactly when the change
commits, to every replica. Each process keeps one connection that ``LISTEN``\\ s; any
notification empties the cache. The cache answers only while that connection is known to be
alive (pinged every ``ping_s``); otherwise every request reads PostgreSQL, as without a cache.
A load that raced with a notification is not kept (generation check).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from driftline.deployment.records import Deployment
from driftline.runtime.logging import get_logger

CHANNEL = "driftline_deployment_routing"
log = get_logger(__name__)


async def notify_routing_changed(session: AsyncSession, model: str) -> None:
    """Tell every replica, on commit of ``session``'s transaction, that ``model`` changed."""
    await session.execute(
        text("SELECT pg_notify(:channel, :model)"), {"channel": CHANNEL, "model": model}
    )


class RoutingCache:
    """Deployments by model name, valid while the change listener is connected."""

    def __init__(self) -> None:
        self._entries: dict[str, Deployment] = {}
        self._generation = 0
        self._live = False

    @property
    def live(self) -> bool:
        """Whether cached answers are trusted (the listener is connected)."""
        return self._live

    async def get(self, name: str, load: Callable[[str], Awaitable[Deployment]]) -> Deployment:
        """The cached deployment of ``name``, or ``load(name)`` (kept if nothing changed since)."""
        if self._live:
            found = self._entries.get(name)
            if found is not None:
                return found
        generation = self._generation
        loaded = await load(name)
        # Unknown names are not kept: requests for made-up models must not grow the cache.
        if self._live and generation == self._generation and loaded.champion is not None:
            self._entries[name] = loaded
        return loaded

    def invalidate(self, *_: Any) -> None:
        """Forget everything (a rollout changed somewhere); also an asyncpg listener callback."""
        self._generation += 1
        self._entries.clear()

    def set_live(self, live: bool) -> None:
        """Trust the cache from now on (listener up) or stop trusting it (listener down)."""
        self.invalidate()
        self._live = live


async def listen_for_changes(engine: AsyncEngine, cache: RoutingCache, ping_s: float = 1.0) -> None:
    """Keep a ``LISTEN`` connection and feed its notifications to ``cache`` until cancelled."""
    while True:
        try:
            async with engine.connect() as conn:
                raw = (await conn.get_raw_connection()).driver_connection
                assert raw is not None
                await raw.add_listener(CHANNEL, cache.invalidate)
                cache.set_live(True)
                try:
                    while True:
                        await asyncio.sleep(ping_s)
                        await asyncio.wait_for(raw.fetchval("SELECT 1"), ping_s * 5)
                finally:
                    cache.set_live(False)
                    if not raw.is_closed():
                        await raw.remove_listener(CHANNEL, cache.invalidate)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an outage: serve uncached and reconnect
            log.warning("routing listener lost, reconnecting", error=repr(exc))
            await asyncio.sleep(ping_s)
