"""The routing cache keeps only models something serves (its cache mechanics are
tests/unit/runtime/test_notified_cache.py)."""

from __future__ import annotations

import pytest

from driftline.deployment.records import Deployment, Served
from driftline.deployment.serving.routing_cache import RoutingCache
from driftline_contracts.values import ArtifactRef, ModelRef

CHAMPION = Served(
    ModelRef(name="m", version=1),
    ArtifactRef(
        uri="s3://b/m.skops", sha256="0" * 64, media_type="application/vnd.skops", size_bytes=1
    ),
)


@pytest.mark.parametrize(("champion", "loads"), [(CHAMPION, 1), (None, 2)])
async def test_only_served_models_are_kept(champion: Served | None, loads: int) -> None:
    """Unknown models are read every time: made-up names must not grow the cache."""
    cache, done = RoutingCache(), 0

    async def load(name: str) -> Deployment:
        nonlocal done
        done += 1
        return Deployment(name=name, champion=champion)

    cache.set_live(True)
    await cache.get("m", load)
    await cache.get("m", load)
    assert done == loads
