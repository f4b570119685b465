"""Scenario 12: the columnar prediction log, crashed at its commit points.

The real compactor code (``compactor._Resume`` and ``flush``, ``compaction.compact``, the
progress check in ``offsets``) runs against the session's PostgreSQL (a schema of its own,
migrated with deployment's migrations) and a local object store, over an in-memory log that
keeps growing while compactors die: before a range's second object is written, after its
objects and before the progress transaction, inside that transaction, and after its commit.
Each crash ends the compactor; a fresh one resumes from the recorded progress.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import delete

from driftline.deployment.deps import DeploymentDeps
from driftline.deployment.models.cache import ModelCache
from driftline.deployment.prediction_log.columnar import encode_record
from driftline.deployment.prediction_log.kafka_sink import KafkaLogSink
from driftline.deployment.serving.answer import serve
from driftline.deployment.serving.served_rows import ServedRows
from driftline.deployment.settings import DeploymentSection
from driftline.deployment.tables import prediction_log_offsets
from driftline.runtime.service import ServiceRuntime
from driftline.runtime.storage import StoredObject
from driftline.runtime.storage.local import LocalArtifactStore
from driftline.runtime.tables import outbox
from driftline.stack import StackInfo
from tests.integration.deployment_schema import migrated_deployment_schema
from tests.reliability.crashes import FaultPlan, InjectedCrash
from tests.reliability.figures import Figures
from tests.reliability.prediction_log_harness import CrashingStore, Life, MemoryLog, account
from tests.unit.deployment.test_batch_requests import REF, FixedRouting, odd_rows, weather_model
from tests.unit.deployment.test_prediction_log_columnar import served

CRASHES_PER_POINT = 40  # x 5 points = 200 injected crashes
POINTS = (
    "range.begun",
    "objects.between_versions",
    "objects.before_progress",
    "progress.before_commit",
    "progress.after_commit",
)


@pytest.fixture(scope="module")
async def deployment_schema(local_stack: StackInfo) -> AsyncIterator[ServiceRuntime]:
    """Deployment's schema under a name of its own, migrated; nothing started."""
    async with migrated_deployment_schema(local_stack, "rel12_") as runtime:
        yield runtime


@pytest.fixture
async def compactor_runtime(deployment_schema: ServiceRuntime) -> ServiceRuntime:
    """The schema with no progress and no event yet."""
    async with deployment_schema.units() as uow:
        await uow.session.execute(delete(outbox))
        await uow.session.execute(delete(prediction_log_offsets))
    return deployment_schema


class Traffic:
    """Served requests of three models (two partitions) and two versions, acknowledged."""

    def __init__(self, log: MemoryLog, rng: random.Random) -> None:
        self._log, self._rng, self.requests, self.rows = log, rng, 0, 0

    def request(self) -> None:
        """One answered request of 1-6 rows, each row served by version 1 or 2."""
        n, model = self._rng.randint(1, 6), self._rng.choice(["churn", "fraud", "spam"])
        versions = [self._rng.choice([1, 2]) for _ in range(n)]
        rows = served(n, versions=versions, start=self.rows)
        rows = type(rows)(**{**rows.__dict__, "model": model})
        value = encode_record(rows)
        assert value is not None
        self._log.append(model.encode(), value, n)
        self.requests, self.rows = self.requests + 1, self.rows + n


async def test_compaction_crashes_lose_no_row_and_announce_each_once(
    compactor_runtime: ServiceRuntime, tmp_path: Path, figures: Figures
) -> None:
    rng = random.Random(12)
    log, base = MemoryLog(partitions=2), LocalArtifactStore(tmp_path)
    plan = FaultPlan(dict.fromkeys(POINTS, CRASHES_PER_POINT), p=0.5, rng=rng)
    store, traffic = CrashingStore(base, plan), Traffic(log, rng)

    def produce() -> bool:
        """Requests keep arriving while compactors die, until every point crashed enough."""
        if plan.exhausted and traffic.requests >= 400:
            return False
        for _ in range(rng.randint(0, 3)):
            traffic.request()
        return True

    lives = 0
    while True:
        lives += 1
        life = Life(log, compactor_runtime.units, store, plan, rng)
        try:
            await life.run(produce)
            break
        except InjectedCrash:
            assert lives < 5_000, plan.crashes
    found = await account(log, compactor_runtime.units, store, base, tmp_path)
    figures.record(
        "12 prediction log: compaction crash points",
        **{
            "events in": sum(found.acked.values()),
            "effects": len(found.announced),
            "lost": found.lost,
            "duplicates applied": found.duplicates,
            "redeliveries": found.rewritten_keys,
            "injected crashes": sum(plan.crashes.values()),
            **{f"crashes {k}": v for k, v in sorted(plan.crashes.items())},
            "compactor lives": lives,
            "PredictionsLogged": found.events,
            "objects in bucket": found.objects,
            "requests": traffic.requests,
        },
    )
    assert plan.exhausted, plan.crashes
    assert sum(plan.crashes.values()) == len(POINTS) * CRASHES_PER_POINT
    assert set(found.acked.values()) == {1}  # request ids are unique in the log
    assert found.lost == 0
    assert found.announced == found.acked  # every acknowledged row announced exactly once
    assert found.batch_ids.most_common(1)[0][1] == 1
    assert found.in_bucket == found.acked  # and lies in exactly one object of the bucket
    assert found.objects == found.events  # no object that no event names
    assert found.rewritten_keys > 0  # crashes made ranges compacted again...
    assert found.keys_with_two_contents == 0  # ...into the same key with the same content


class MemoryPublisher:
    """The log's producer: a record is acknowledged once it is in the log."""

    def __init__(self, log: MemoryLog) -> None:
        self._log = log

    async def send(
        self, topic: str, value: bytes, *, key: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        self._log.append(key, value, int(dict(headers)["rows"]))


class DiesAfterTheAck(KafkaLogSink):
    """The Kafka sink of a process killed the moment the broker acknowledged the rows."""

    async def append(self, served: ServedRows) -> None:
        await super().append(served)
        raise InjectedCrash("sink.after_ack")


def sink(cls: type[KafkaLogSink], log: MemoryLog) -> KafkaLogSink:
    """A connected sink whose producer is ``log``."""
    found = cls()
    found._publisher = MemoryPublisher(log)  # type: ignore[assignment]  # what run() connects
    return found


async def test_a_crash_after_the_ack_before_the_answer_logs_the_rows_once(
    compactor_runtime: ServiceRuntime, tmp_path: Path, figures: Figures
) -> None:
    log, base = MemoryLog(partitions=1), LocalArtifactStore(tmp_path / "bucket")
    rows, cache = odd_rows(40), ModelCache(base)
    cache.put(REF, weather_model())
    settings = DeploymentSection(log_predictions=True, log_sink="kafka")

    def process(log_sink: KafkaLogSink) -> DeploymentDeps:
        return DeploymentDeps(base, cache, settings, routing=FixedRouting(), log_sink=log_sink)  # type: ignore[arg-type]

    with pytest.raises(InjectedCrash):  # the client sees no answer
        await serve(None, process(sink(DiesAfterTheAck, log)), "m", rows, None)  # type: ignore[arg-type]
    (crashed,) = log.records[0]
    unanswered = orjson.loads(crashed.value)["request_id"]
    # The client retries; the restarted process answers it.
    retried = await serve(None, process(sink(KafkaLogSink, log)), "m", rows, None)  # type: ignore[arg-type]
    answered = [a["request_id"] for a in orjson.loads(retried.response_body())["predictions"]]
    plan = FaultPlan(dict.fromkeys(POINTS, 3), p=0.5, rng=random.Random(7))
    store, lives = CrashingStore(base, plan), 0
    while True:  # compaction, itself crashing a few times
        lives += 1
        try:
            await Life(log, compactor_runtime.units, store, plan, random.Random(lives),
                       max_rows=15).run(lambda: False)  # fmt: skip
            break
        except InjectedCrash:
            assert lives < 100
    found = await account(log, compactor_runtime.units, store, base, tmp_path / "bucket")
    figures.record(
        "12 prediction log: crash after the ack, before the answer",
        **{
            "events in": sum(found.acked.values()), "effects": len(found.announced),
            "lost": found.lost, "duplicates applied": found.duplicates, "redeliveries": 0,
            "unanswered rows (crashed request)": len(unanswered),
            "rows of the client's retry": len(answered),
            "compaction crashes": sum(plan.crashes.values()),
        },
    )  # fmt: skip
    # Served rows are durable before the answer: the unanswered request's are in the log once.
    assert len(unanswered) > 20  # the rows the model answered (failed rows are not logged)
    assert set(unanswered).isdisjoint(answered)  # the retry is a new prediction, new ids
    assert found.announced == found.acked == Counter([*unanswered, *answered_logged(retried)])
    assert found.in_bucket == found.acked
    assert found.lost == found.duplicates == 0
    assert sum(plan.crashes.values()) > 0


def answered_logged(served: ServedRows) -> list[str]:
    """The request ids of the rows the model answered (the ones the log keeps)."""
    errors = served.predicted.errors
    return [rid for rid, error in zip(served.request_ids, errors, strict=True) if error is None]


class StallsOnce:
    """An object store whose first write returns only when released: a replica that stalls
    in the middle of a range (and loses its partition meanwhile)."""

    def __init__(self, store: LocalArtifactStore) -> None:
        self._store, self.stalled, self.release = store, asyncio.Event(), asyncio.Event()

    async def put_bytes(self, key: str, data: bytes, *, content_type: str) -> StoredObject:
        stored = await self._store.put_bytes(key, data, content_type=content_type)
        if not self.stalled.is_set():
            self.stalled.set()
            await self.release.wait()
        return stored


async def test_a_replica_taking_over_a_begun_range_compacts_the_same_range(
    compactor_runtime: ServiceRuntime, tmp_path: Path
) -> None:
    rng = random.Random(5)
    log, base = MemoryLog(partitions=1), LocalArtifactStore(tmp_path)
    stalling, traffic = StallsOnce(base), Traffic(log, rng)
    store = CrashingStore(stalling, FaultPlan({}))  # type: ignore[arg-type]
    for _ in range(20):
        traffic.request()
    units = compactor_runtime.units
    first = asyncio.create_task(Life(log, units, store, FaultPlan({}), rng).run(lambda: False))
    await stalling.stalled.wait()  # one object of its range written, the rest not
    for _ in range(20):  # requests go on arriving
        traffic.request()
    await Life(log, units, store, FaultPlan({}), random.Random(6)).run(lambda: False)
    stalling.release.set()  # the first replica wakes up, writes the rest, and is refused
    await asyncio.wait_for(first, timeout=10)
    found = await account(log, units, store, base, tmp_path)
    assert found.announced == found.in_bucket == found.acked
    assert found.objects == found.events
    assert found.rewritten_keys > 0  # both replicas wrote the begun range's objects...
    assert found.keys_with_two_contents == 0  # ...with the same bytes
