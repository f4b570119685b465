"""A service's consumers join their groups together: start-up waits for one join, not six."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from driftline.runtime.broker import build_broker
from driftline.runtime.settings import KafkaSettings

JOIN_S = 0.4
"""Stands in for tansu's ~2 s per group join."""


class Joins:
    """Fake subscriber starts: each waits ``JOIN_S``; counts how many wait at once."""

    def __init__(self, failing: int | None = None) -> None:
        self.waiting = self.most = self.joined = self.cancelled = 0
        self.failing = failing

    def start_of(self, index: int) -> Any:
        async def start() -> None:
            self.waiting += 1
            self.most = max(self.most, self.waiting)
            try:
                await asyncio.sleep(JOIN_S if index != self.failing else JOIN_S / 4)
                if index == self.failing:
                    raise ConnectionError("group coordinator not available")
                self.joined += 1
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
            finally:
                self.waiting -= 1

        return start


def _broker(joins: Joins, count: int) -> Any:
    broker = build_broker(KafkaSettings(), "probe", graceful_timeout_s=1)
    for index in range(count):

        @broker.subscriber(f"topic-{index}", group_id=f"group-{index}")
        async def handle(body: bytes) -> None: ...

    async def connect() -> None: ...

    broker.connect = connect  # type: ignore[method-assign]  # no Kafka in a unit test
    for index, subscriber in enumerate(broker.subscribers):
        subscriber.start = joins.start_of(index)  # type: ignore[method-assign]
    return broker


async def test_six_subscriptions_join_at_once() -> None:
    joins = Joins()
    broker = _broker(joins, 6)
    started = time.perf_counter()
    await broker.start()
    elapsed = time.perf_counter() - started
    assert (joins.joined, joins.most) == (6, 6)
    assert elapsed < 2 * JOIN_S  # one after another: 6 * JOIN_S
    assert broker.running


async def test_a_failed_join_fails_the_start_and_cancels_the_others() -> None:
    joins = Joins(failing=2)
    broker = _broker(joins, 4)
    with pytest.raises(ConnectionError, match="coordinator"):
        await broker.start()
    assert (joins.joined, joins.cancelled) == (0, 3)  # retried whole by the start-up step
    assert not broker.running
