"""Who serves each model, cached per process and dropped the moment PostgreSQL says it changed.

Every write to rollout state (champion, canary start, step, end) sends ``NOTIFY`` on
``CHANNEL`` in its own transaction; each replica's listener empties its cache when the change
commits (``driftline.runtime.notified_cache``, which the registry's reads by alias use too).
Unknown models are not kept: requests for made-up names must not grow the cache.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from driftline.deployment.records import Deployment
from driftline.runtime.notified_cache import NotifiedCache, notify_changed
from driftline.runtime.notified_cache import listen_for_changes as listen_on

CHANNEL = "driftline_deployment_routing"


async def notify_routing_changed(session: AsyncSession, model: str) -> None:
    """Tell every replica, on commit of ``session``'s transaction, that ``model`` changed."""
    await notify_changed(session, CHANNEL, model)


class RoutingCache(NotifiedCache[str, Deployment]):
    """Deployments by model name, valid while the change listener is connected."""

    def __init__(self) -> None:
        super().__init__(keep=lambda deployment: deployment.champion is not None)


async def listen_for_changes(engine: AsyncEngine, cache: RoutingCache, ping_s: float = 1.0) -> None:
    """Keep the ``LISTEN`` connection on ``CHANNEL`` feeding ``cache`` until cancelled."""
    await listen_on(engine, CHANNEL, cache, ping_s)
