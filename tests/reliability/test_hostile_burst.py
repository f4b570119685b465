"""Scenario 7 on the real broker: a burst of hostile records ahead of a good one, one partition.

Every hostile record is dead-lettered with its reason and the good record behind them is
handled: the partition never stalls.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import AsyncIterator

import pytest
from hypothesis.errors import NonInteractiveExampleWarning

from driftline_contracts import topics
from driftline_contracts.codec import encode
from driftline_contracts.envelope import new_envelope
from tests.integration.kafka_helpers import header, produce_raw, read_topic, settings_from
from tests.integration.probe import Probe, arrival
from tests.reliability.figures import Figures
from tests.reliability.hostile import hostile_records
from tests.reliability.test_hostile_events import _still_valid

BURST = 24


@pytest.fixture(params=[1, 50], ids=["one-at-a-time", "batched"])
async def probe(local_stack, request: pytest.FixtureRequest) -> AsyncIterator[Probe]:
    """A running probe service (real FastStream consumer) on the session stack, taking records
    one at a time or in polled batches of up to 50 (one transaction each)."""
    probe = Probe(settings_from(local_stack.env()), batch_size=request.param)
    await probe.runtime.start()
    yield probe
    await probe.runtime.stop()


async def test_hostile_burst_is_dead_lettered_and_the_next_good_record_is_handled(
    probe: Probe, local_stack, figures: Figures
) -> None:
    bootstrap = local_stack.env()["DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS"]
    subscription = probe.runtime.processors[0].subscription
    key = f"burst-{probe.name}".encode()
    burst = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        while len(burst) < BURST:
            hostile = hostile_records(subscription).example()
            # 10 MB is over the broker's message limit (tested in process); some "wrong
            # types" are valid.
            skipped = ("ten-mb-string",)
            if hostile.kind not in skipped and not _still_valid(hostile, subscription):
                burst.append(hostile)
    good = arrival(key.decode(), 7)
    record = encode(good, new_envelope(good, source="pipeline/burst", actor="pipeline:burst"))
    started = time.monotonic()
    await produce_raw(
        bootstrap,
        topics.DATA_ARRIVED,
        [
            *[(key, h.record.value, list(h.record.headers)) for h in burst],
            (record.key, record.value, list(record.headers)),
        ],
        together=True,  # one backlog: a batching consumer polls hostile and good together
    )
    await probe.wait_for(key.decode(), timeout_s=90)
    recovery_s = time.monotonic() - started

    consumer = probe.runtime.processors[0].consumer

    def ours(r) -> bool:  # type: ignore[no-untyped-def]
        return r.key == key and header(r, "dlq-consumer") == consumer

    dead = await read_topic(bootstrap, topics.dlq(topics.DATA_ARRIVED), ours, count=BURST)
    assert len(dead) == BURST
    assert all(header(r, "dlq-reason") for r in dead)
    assert len(await probe.effects_for(key.decode())) == 1
    batch_size = probe.runtime.processors[0].subscription.batch_size
    way = "one at a time" if batch_size == 1 else f"polled batches of up to {batch_size}"
    figures.record(
        f"7 hostile burst (real broker, one partition, {way})",
        **{
            "events in": BURST + 1,
            "effects": 1,
            "lost": 0,
            "duplicates applied": 0,
            "redeliveries": 0,
            "dead-lettered with reason": len(dead),
            "all handled after the burst was sent (s)": round(recovery_s, 2),
            "kinds": ", ".join(sorted({h.kind for h in burst})),
        },
    )


async def test_header_bytes_that_are_not_utf8_are_dead_lettered_not_skipped(
    probe: Probe, local_stack
) -> None:
    """FastStream's own parser decodes every header as UTF-8 before our handler runs; a record
    it cannot parse must still reach the processor (and its dead-letter topic), or a later
    offset commit would skip it silently."""
    bootstrap = local_stack.env()["DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS"]
    key = f"odd-bytes-{probe.name}".encode()
    odd = arrival(f"{key.decode()}-odd", 8)
    odd_record = encode(odd, new_envelope(odd, source="pipeline/odd", actor="pipeline:odd"))
    odd_headers = [(k, b"\xff\xfe" if k == "ce_source" else v) for k, v in odd_record.headers]
    good = arrival(key.decode(), 9)
    record = encode(good, new_envelope(good, source="pipeline/odd", actor="pipeline:odd"))
    await produce_raw(
        bootstrap,
        topics.DATA_ARRIVED,
        [(key, odd_record.value, odd_headers), (key, record.value, list(record.headers))],
        together=True,
    )
    await probe.wait_for(key.decode(), timeout_s=60)
    consumer = probe.runtime.processors[0].consumer

    def ours(r) -> bool:  # type: ignore[no-untyped-def]
        return r.key == key and header(r, "dlq-consumer") == consumer

    (dead,) = await read_topic(bootstrap, topics.dlq(topics.DATA_ARRIVED), ours, timeout_s=30)
    assert header(dead, "dlq-reason")
    assert await probe.effects_for(f"{key.decode()}-odd") == []
