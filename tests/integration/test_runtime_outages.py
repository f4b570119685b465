"""Outages on the real local stack: a restarted broker loses nothing acknowledged, a stopped
PostgreSQL is waited out (retried, not dead-lettered)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from driftline.stack import LocalStack, StackInfo
from driftline_contracts import topics
from driftline_contracts.publish import Publisher
from tests.integration.kafka_helpers import header, read_all, settings_from
from tests.integration.probe import Probe, arrival
from tests.own_stack import stack_of_its_own

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
async def probe(local_stack) -> AsyncIterator[Probe]:
    """A fresh probe service (own schema and consumer group) per test."""
    probe = Probe(settings_from(local_stack.env()))
    await probe.runtime.start()
    yield probe
    await probe.runtime.stop()


async def _publish_all(bootstrap: str, prefix: str, count: int, seed: int) -> list[str]:
    async with Publisher(
        bootstrap_servers=bootstrap, source="pipeline/outage-test", actor="pipeline:outage-test"
    ) as publisher:
        envelopes = [
            await publisher.publish(arrival(f"{prefix}-{i}", seed + i)) for i in range(count)
        ]
    return [e.id for e in envelopes]


async def _wait_all(probe: Probe, prefix: str, count: int, timeout_s: float = 90) -> None:
    async with asyncio.timeout(timeout_s):
        for i in range(count):
            await probe.wait_for(f"{prefix}-{i}", timeout_s=timeout_s)


async def test_broker_killed_and_restarted_loses_no_acknowledged_event(
    local_stack_control: LocalStack, tmp_path: Path
) -> None:
    # A broker of its own: a restart of the session's broker can leave other tests' consumer
    # groups rebalancing (see tests.own_stack).
    with stack_of_its_own(tmp_path / "stack") as stack:
        await _broker_restart_loses_nothing(stack.info(), stack)


async def _broker_restart_loses_nothing(
    local_stack: StackInfo, local_stack_control: LocalStack
) -> None:
    bootstrap = local_stack.kafka_bootstrap
    probe = Probe(settings_from(local_stack.env()))
    await probe.runtime.start()
    try:
        await _publish_all(bootstrap, "before-kill", 10, 1000)
        await _wait_all(probe, "before-kill", 10)
    finally:
        await probe.runtime.stop()
    # Acknowledged while nobody consumes, then the broker dies hard.
    await _publish_all(bootstrap, "unconsumed", 10, 2000)
    await asyncio.to_thread(local_stack_control.kill_broker)
    await asyncio.to_thread(local_stack_control.start_broker)
    probe = Probe.reopen(probe, settings_from(local_stack.env()))
    await probe.runtime.start()
    try:
        await _publish_all(bootstrap, "after-restart", 10, 3000)
        await _wait_all(probe, "unconsumed", 10)
        await _wait_all(probe, "after-restart", 10)
        # The probe reads the topic from the start (other tests' events too): check ours.
        counts = [
            len(await probe.effects_for(f"{prefix}-{i}"))
            for prefix in ("before-kill", "unconsumed", "after-restart")
            for i in range(10)
        ]
        assert counts == [1] * 30
    finally:
        await probe.runtime.stop()


async def test_postgres_stopped_mid_stream_is_retried_not_dead_lettered(
    probe: Probe, local_stack, local_stack_control: LocalStack
) -> None:
    bootstrap = local_stack.kafka_bootstrap
    await _publish_all(bootstrap, "pg-warmup", 1, 4000)
    await probe.wait_for("pg-warmup-0")
    await asyncio.to_thread(local_stack_control.stop_postgres)
    try:
        ids = await _publish_all(bootstrap, "pg-outage", 5, 5000)
        await asyncio.sleep(4)
        retries = sum(
            s.value
            for f in probe.runtime.metrics.registry.collect()
            for s in f.samples
            if s.name == "driftline_retries_total" and s.labels.get("kind") == "transient"
        )
        assert retries >= 1
    finally:
        await asyncio.to_thread(local_stack_control.start_postgres)
    await _wait_all(probe, "pg-outage", 5, timeout_s=120)
    consumer = probe.runtime.processors[0].consumer
    dead = await read_all(
        bootstrap, topics.dlq(topics.DATA_ARRIVED), lambda r: header(r, "dlq-consumer") == consumer
    )
    assert [header(r, "ce_id") for r in dead if header(r, "ce_id") in ids] == []


async def test_group_join_that_never_completes_is_abandoned_and_retried(local_stack) -> None:
    """The first consumer start joins its groups and then never returns (a broker that lost
    track of a group looks like this): after ``startup_step_timeout_s`` the broker is stopped
    and started again, and the service consumes."""
    settings = settings_from(local_stack.env())
    probe = Probe(settings)
    probe.runtime.section = probe.runtime.section.model_copy(
        update={"startup_step_timeout_s": 12.0}
    )
    join = probe.runtime.broker.start
    attempts = 0

    async def join_that_hangs_once() -> None:
        nonlocal attempts
        attempts += 1
        await join()
        if attempts == 1:
            await asyncio.Event().wait()

    probe.runtime.broker.start = join_that_hangs_once  # type: ignore[method-assign]
    await probe.runtime.start()
    try:
        assert attempts == 2
        assert probe.runtime.startup_error is None
        await _publish_all(local_stack.kafka_bootstrap, "after-hung-join", 3, 6000)
        await _wait_all(probe, "after-hung-join", 3)
        counts = [len(await probe.effects_for(f"after-hung-join-{i}")) for i in range(3)]
        assert counts == [1, 1, 1]
    finally:
        await probe.runtime.stop()
