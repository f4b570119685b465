"""Each routed version's micro-batcher in this process: made on its first request, retired
when the version is no longer routed or the model's micro-batching option changed.

What serves a model comes from the routing cache with each request, so a replica learns of a
promotion, an ended canary or a new option on the model's next request; the batchers that
request's deployment no longer routes to are closed then (their queued and predicting
requests still get their answers) and leave the map, which so holds at most one batcher per
routed version. A closed batcher is kept only until its last batch ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from driftline.deployment.records import Deployment
from driftline.deployment.serving.batch_metrics import BatchMetrics
from driftline.deployment.serving.micro_batcher import MicroBatcher, Run

BatcherKey = tuple[int, int, float]
"""A version and the bounds it batches with (``max_batch_rows``, ``max_wait_ms``)."""


def routed_keys(deployment: Deployment) -> frozenset[BatcherKey]:
    """The batchers ``deployment`` routes requests to: none when micro-batching is off."""
    option = deployment.micro_batching
    if option is None or deployment.champion is None:
        return frozenset()
    versions = {deployment.champion.model.version}
    canary = deployment.canary
    if canary is not None and not canary.current.shadow:  # a shadow challenger is mirrored
        versions.add(canary.challenger.model.version)
    return frozenset((v, option.max_batch_rows, option.max_wait_ms) for v in versions)


class Batchers:
    """Micro-batchers by model and ``BatcherKey``, at most one per routed version."""

    def __init__(self, metrics: BatchMetrics | None = None) -> None:
        self._metrics = metrics
        self._live: dict[str, dict[BatcherKey, MicroBatcher]] = {}
        self._seen: dict[str, Deployment] = {}
        self._closing: set[MicroBatcher] = set()
        self._watchers: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        """Live batchers (closed ones still finishing their last batch not included)."""
        return sum(len(held) for held in self._live.values())

    @property
    def closing(self) -> int:
        """Closed batchers whose queued or predicting requests are not all answered yet."""
        return len(self._closing)

    def retire_unrouted(self, deployment: Deployment) -> None:
        """Close the model's batchers that ``deployment`` no longer routes requests to."""
        held = self._live.get(deployment.name)
        if held is None or self._seen.get(deployment.name) is deployment:
            return  # the usual request: no batcher, or the same cached deployment as before
        self._seen[deployment.name] = deployment
        routed = routed_keys(deployment)
        for key in [key for key in held if key not in routed]:
            self._close(held.pop(key))
        if not held:
            del self._live[deployment.name], self._seen[deployment.name]

    def for_version(
        self, deployment: Deployment, version: int, make_run: Callable[[], Run]
    ) -> MicroBatcher:
        """The batcher of ``version`` with ``deployment``'s bounds, made on first use."""
        option = deployment.micro_batching
        if option is None:
            raise ValueError(f"micro-batching is off for model {deployment.name!r}")
        self.retire_unrouted(deployment)
        key = (version, option.max_batch_rows, option.max_wait_ms)
        held = self._live.setdefault(deployment.name, {})
        self._seen[deployment.name] = deployment
        batcher = held.get(key)
        if batcher is None:
            metrics = self._metrics
            observer = metrics.for_version(deployment.name, version) if metrics else None
            batcher = MicroBatcher(
                make_run(), option.max_batch_rows, option.max_wait_ms, observer=observer
            )
            held[key] = batcher
        return batcher

    async def drained(self) -> None:
        """Return once every closed batcher's last batch has ended."""
        while self._watchers:
            await asyncio.gather(*self._watchers)

    def _close(self, batcher: MicroBatcher) -> None:
        batcher.close()
        if not batcher.busy:
            return
        self._closing.add(batcher)  # referenced until its in-flight requests are answered

        async def watch() -> None:
            await batcher.drained()
            self._closing.discard(batcher)

        watcher = asyncio.get_running_loop().create_task(watch())
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)
