"""The relay's loop on shutdown: the batch in hand is finished, what is committed drained."""

from __future__ import annotations

import asyncio

from driftline.runtime.metrics import Metrics
from driftline.runtime.outbox import OutboxRelay
from driftline.runtime.settings import OutboxSettings, RetrySettings


class ScriptedRelay(OutboxRelay):
    """A relay whose batches come from a list instead of the outbox table."""

    def __init__(self, batches: list[int], batch_s: float = 0.0, fail: bool = False) -> None:
        super().__init__(
            None,  # type: ignore[arg-type]  (no table: publish_pending is scripted)
            None,  # type: ignore[arg-type]
            service="test",
            settings=OutboxSettings(poll_interval_s=5),
            retry=RetrySettings(initial_backoff_s=5),
            metrics=Metrics("test"),
        )
        self.waiting = batches
        self.published: list[int] = []
        self.batch_s = batch_s
        self.fail = fail
        self.busy = asyncio.Event()

    async def publish_pending(self) -> int:
        self.busy.set()
        if self.fail:
            raise ConnectionError("broker down")
        if not self.waiting:
            return 0
        await asyncio.sleep(self.batch_s)
        self.published.append(self.waiting.pop(0))
        return self.published[-1]

    async def backlog(self) -> int:
        return sum(self.waiting)


async def test_a_stopped_relay_finishes_its_batch_and_drains_the_rest() -> None:
    relay = ScriptedRelay([3, 2, 1], batch_s=0.2)
    running = asyncio.create_task(relay.run())
    await relay.busy.wait()  # the first batch is being published
    relay.stop()
    await asyncio.wait_for(running, 2)
    assert relay.published == [3, 2, 1]


async def test_an_idle_relay_returns_at_once_when_stopped() -> None:
    relay = ScriptedRelay([])
    running = asyncio.create_task(relay.run())
    await relay.busy.wait()
    relay.stop()  # it waits for a wake-up or its 5 s poll
    await asyncio.wait_for(running, 1)


async def test_a_relay_that_cannot_publish_stops_without_waiting_out_its_back_off() -> None:
    relay = ScriptedRelay([1], fail=True)
    running = asyncio.create_task(relay.run())
    await relay.busy.wait()  # failed once; backs off 5 s
    relay.stop()
    await asyncio.wait_for(running, 1)
    assert relay.published == []
