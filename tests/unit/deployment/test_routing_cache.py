"""The routing cache: answers from memory only while the change listener is up, and never
keeps a deployment loaded across a change notification."""

from __future__ import annotations

import asyncio

from driftline.deployment.adapters.routing_cache import RoutingCache
from driftline.deployment.records import Deployment, Served
from driftline_contracts.values import ArtifactRef, ModelRef

CHAMPION = Served(
    ModelRef(name="m", version=1),
    ArtifactRef(
        uri="s3://b/m.skops", sha256="0" * 64, media_type="application/vnd.skops", size_bytes=1
    ),
)


class Loader:
    """Counts loads and hands out a new deployment record each time."""

    def __init__(self) -> None:
        self.loads = 0
        self.gate: asyncio.Event | None = None

    async def __call__(self, name: str) -> Deployment:
        self.loads += 1
        if self.gate is not None:
            await self.gate.wait()
        return Deployment(name=f"{name}#{self.loads}", champion=CHAMPION)


async def test_without_a_listener_every_request_reads_the_database() -> None:
    cache, load = RoutingCache(), Loader()
    await cache.get("m", load)
    await cache.get("m", load)
    assert load.loads == 2


async def test_a_live_cache_answers_until_a_change_is_notified() -> None:
    cache, load = RoutingCache(), Loader()
    cache.set_live(True)
    first = await cache.get("m", load)
    assert await cache.get("m", load) is first
    cache.invalidate(None, 1, "channel", "m")  # asyncpg's listener signature
    assert (await cache.get("m", load)).name == "m#2"


async def test_a_load_racing_with_a_change_is_not_kept() -> None:
    cache, load = RoutingCache(), Loader()
    cache.set_live(True)
    load.gate = asyncio.Event()
    racing = asyncio.create_task(cache.get("m", load))
    await asyncio.sleep(0)
    cache.invalidate()  # committed while the old state was being read
    load.gate.set()
    assert (await racing).name == "m#1"
    assert (await cache.get("m", load)).name == "m#2"


async def test_losing_the_listener_drops_and_stops_caching() -> None:
    cache, load = RoutingCache(), Loader()
    cache.set_live(True)
    await cache.get("m", load)
    cache.set_live(False)
    await cache.get("m", load)
    await cache.get("m", load)
    assert load.loads == 3


async def test_unknown_models_are_not_kept() -> None:
    cache, loads = RoutingCache(), 0

    async def nothing(name: str) -> Deployment:
        nonlocal loads
        loads += 1
        return Deployment(name=name, champion=None)

    cache.set_live(True)
    await cache.get("made-up", nothing)
    await cache.get("made-up", nothing)
    assert loads == 2
