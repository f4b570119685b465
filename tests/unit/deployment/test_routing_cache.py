"""The routing cache keeps only models something serves (its cache mechanics are
tests/unit/runtime/test_notified_cache.py)."""

from __future__ import annotations

from driftline.deployment.adapters.routing_cache import RoutingCache
from driftline.deployment.records import Deployment, Served
from driftline_contracts.values import ArtifactRef, ModelRef

CHAMPION = Served(
    ModelRef(name="m", version=1),
    ArtifactRef(
        uri="s3://b/m.skops", sha256="0" * 64, media_type="application/vnd.skops", size_bytes=1
    ),
)


async def test_served_models_are_kept_while_live() -> None:
    cache, loads = RoutingCache(), 0

    async def served(name: str) -> Deployment:
        nonlocal loads
        loads += 1
        return Deployment(name=name, champion=CHAMPION)

    cache.set_live(True)
    await cache.get("m", served)
    await cache.get("m", served)
    assert loads == 1


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
