"""The Kafka prediction log with a real deployment process: answered rows are acknowledged on
driftline.prediction-log with no PostgreSQL row; kill -9 between the answers and compaction,
then a restart, announces every answered row exactly once in Parquet objects; feedback for
those rows is accepted; with the broker killed and restarted while requests wait for their
acknowledgement, every answered row is announced exactly once (Parquet objects and PostgreSQL-path
batches counted together)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import orjson
import psutil
import pytest
import skops.io as sio
from aiokafka import ConsumerRecord
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

from driftline.runtime.prediction_batches import prediction_rows
from driftline.runtime.prediction_log_reader import read_predictions
from driftline.runtime.storage import build_artifact_store
from driftline.stack import LocalStack, StackInfo
from driftline.stack.services import (
    restart_service,
    start_services,
    stop_services,
    wait_until_ready,
)
from driftline_contracts import topics
from driftline_contracts.codec import decode
from driftline_contracts.events.monitoring import PredictionsLogged
from driftline_contracts.values import ArtifactRef
from tests.integration.deployment_steps import approve, until
from tests.integration.kafka_helpers import read_all, settings_from
from tests.own_stack import stack_of_its_own
from tests.tokens import stack_headers

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MODEL = f"kafka-log-{uuid.uuid4().hex[:10]}"
KAFKA_LOG = {"DRIFTLINE_DEPLOYMENT__LOG_SINK": "kafka"}
NO_COMPACTION = {**KAFKA_LOG, "DRIFTLINE_DEPLOYMENT__LOG_COMPACT_INTERVAL_S": "3600"}
QUICK_COMPACTION = {**KAFKA_LOG, "DRIFTLINE_DEPLOYMENT__LOG_COMPACT_INTERVAL_S": "0.5"}


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack of this module's own: it SIGKILLs a deployment process (``tests.own_stack``)."""
    with stack_of_its_own(tmp_path_factory.mktemp("kafka-log") / "stack") as stack:
        yield stack


async def _deploy(info: StackInfo, name: str = MODEL) -> list[dict[str, float]]:
    frame, target = load_breast_cancer(return_X_y=True, as_frame=True)
    # Newton's method fits these unscaled features in 0.03 s (lbfgs, 5000 iterations: ~40 s).
    model = LogisticRegression(solver="newton-cholesky").fit(frame, target)
    store = build_artifact_store(settings_from(info.env()).storage)
    await store.ensure_bucket()
    stored = await store.put_bytes(f"models/{name}/v1.skops", sio.dumps(model))
    artifact = ArtifactRef(
        uri=stored.uri, sha256=stored.sha256, media_type="application/vnd.skops",
        size_bytes=stored.size_bytes,
    )  # fmt: skip
    await approve(info, name, 1, artifact)
    return list(frame.to_dict(orient="records"))


async def _predict(
    http: httpx.AsyncClient, url: str, rows: list[dict[str, float]], name: str = MODEL
) -> list[str]:
    answer = await http.post(f"{url}/v1/models/{name}/predict", json={"instances": rows})
    assert answer.status_code == 200, answer.text
    return [p["request_id"] for p in answer.json()["predictions"]]


async def _logged_on_kafka(info: StackInfo, name: str = MODEL) -> list[ConsumerRecord]:
    return await read_all(
        info.kafka_bootstrap, topics.PREDICTION_LOG, lambda r: r.key == name.encode()
    )


async def _announced(info: StackInfo) -> list[PredictionsLogged]:
    def ours(record: ConsumerRecord) -> bool:
        return record.key == MODEL.encode()

    found = await read_all(info.kafka_bootstrap, topics.PREDICTIONS_LOGGED, ours)
    return [decode(r.headers, r.value)[1] for r in found]


async def _postgres_rows(info: StackInfo, ids: list[str]) -> int:
    conn = await asyncpg.connect(info.asyncpg_dsn)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM driftline_deployment.predictions WHERE request_id = ANY($1)",
                ids,
            )
        )
    finally:
        await conn.close()


async def _journey(stack: LocalStack) -> None:
    info = stack.info()
    (process,) = start_services(stack, info, ["deployment"], NO_COMPACTION)
    wait_until_ready([process], timeout_s=120)
    rows = await _deploy(info)
    headers = stack_headers(info, "publisher")
    async with httpx.AsyncClient(headers=headers, timeout=30) as http:

        async def ready() -> Any:
            answer = await http.get(f"{process.url}/v2/models/{MODEL}/ready")
            return answer.status_code == 200

        await until(ready, timeout_s=90)

        async def on_kafka() -> Any:  # the producer connects beside the HTTP server
            await _predict(http, process.url, rows[:1])
            return await _logged_on_kafka(info)

        warmup = await until(on_kafka, timeout_s=60)
        served: list[str] = []
        for start in range(0, 200, 25):
            served += await _predict(http, process.url, rows[start : start + 25])
        assert await _postgres_rows(info, served) == 0  # no PostgreSQL row on the hot path
        assert len(await _logged_on_kafka(info)) >= len(warmup) + 8

        os.kill(process.ref.pid, signal.SIGKILL)  # answered, acknowledged, not compacted
        stop_services(stack, [process])
        assert [e for e in await _announced(info) if e.log_offsets is not None] == []
        process = restart_service(stack, info, process, QUICK_COMPACTION)
        wait_until_ready([process], timeout_s=120)
        store = build_artifact_store(settings_from(info.env()).storage)

        async def compacted() -> Any:
            events = [e for e in await _announced(info) if e.log_offsets is not None]
            ids = [r.request_id for e in events for r in await prediction_rows(e, store, 10**8)]
            return ids if set(served) <= set(ids) else None

        logged = await until(compacted, timeout_s=90)
        twice = [rid for rid, n in Counter(logged).items() if n > 1]
        assert twice == []
        # The day read back in one call, listing the bucket (S3 here): every row once.
        now = datetime.now(UTC)
        day = await read_predictions(store, MODEL, now - timedelta(hours=1), now)
        assert Counter(day["request_id"]) == Counter(logged)
        assert {f"features.{k}" for k in rows[0]} <= set(day.columns)
        labels = {rid: 1 for rid in served[:5]}
        sent = await http.post(f"{process.url}/v1/models/{MODEL}/feedback", json={"labels": labels})
        assert sent.status_code == 200, sent.text
        await asyncio.sleep(2.0)  # a second look: nothing announced again
        again = [e for e in await _announced(info) if e.log_offsets is not None]
        assert Counter(e.batch_id for e in again).most_common(1)[0][1] == 1
    stop_services(stack, [process])


def test_answered_rows_survive_a_kill_between_answer_and_compaction_once(
    own_stack: LocalStack,
) -> None:
    asyncio.run(_journey(own_stack))


async def _logged_rows(info: StackInfo, name: str) -> tuple[Counter[str], Counter[str]]:
    """Request ids of every row announced for ``name``: from Parquet objects of the Kafka log,
    and from the PostgreSQL path's batches (inline rows or JSON-lines objects)."""
    store = build_artifact_store(settings_from(info.env()).storage)
    found = await read_all(info.kafka_bootstrap, topics.PREDICTIONS_LOGGED, lambda r: True)
    events = [decode(r.headers, r.value)[1] for r in found]
    ours = [e for e in events if isinstance(e, PredictionsLogged) and e.model.name == name]
    kafka: Counter[str] = Counter()
    postgres: Counter[str] = Counter()
    for event in ours:
        path = postgres if event.log_offsets is None else kafka
        path.update(r.request_id for r in await prediction_rows(event, store, 10**8))
    return kafka, postgres


async def _broker_away(stack: LocalStack) -> None:
    info, name = stack.info(), f"{MODEL}-away"
    quick = {**QUICK_COMPACTION, "DRIFTLINE_DEPLOYMENT__LOG_FLUSH_INTERVAL_S": "0.5"}
    (process,) = start_services(stack, info, ["deployment"], quick)
    try:
        wait_until_ready([process], timeout_s=120)
        rows = await _deploy(info, name)
        async with httpx.AsyncClient(headers=stack_headers(info, "publisher"), timeout=60) as http:

            async def on_kafka() -> Any:
                ready = await http.get(f"{process.url}/v2/models/{name}/ready")
                if ready.status_code != 200:
                    return None
                await _predict(http, process.url, rows[:1], name)
                return await _logged_on_kafka(info, name)

            await until(on_kafka, timeout_s=90)
            answered: list[str] = []
            for start in range(0, 20, 10):
                answered += await _predict(http, process.url, rows[start : start + 10], name)

            async def during_outage(start: int) -> tuple[int, float, list[str]]:
                began = time.monotonic()
                async with httpx.AsyncClient(headers=http.headers, timeout=60) as one:
                    got = await one.post(  # a connection of its own per request
                        f"{process.url}/v1/models/{name}/predict",
                        json={"instances": rows[start : start + 5]},
                    )
                ids = [p["request_id"] for p in got.json()["predictions"]] if got.is_success else []
                return got.status_code, time.monotonic() - began, ids

            await asyncio.to_thread(stack.kill_broker)
            waiting = await asyncio.gather(*(during_outage(100 + 5 * i) for i in range(6)))
            after = [await during_outage(140 + 5 * i) for i in range(6)]  # broker still away
            await asyncio.to_thread(stack.start_broker)
            for _, _, ids in [*waiting, *after]:
                answered += ids

            async def back_on_kafka() -> Any:
                ids = await _predict(http, process.url, rows[200:210], name)
                answered.extend(ids)
                records = await _logged_on_kafka(info, name)
                return any(set(ids) & set(orjson.loads(r.value)["request_id"]) for r in records)

            await until(back_on_kafka, timeout_s=60)

            async def all_logged() -> Any:
                kafka, postgres = await _logged_rows(info, name)
                return (kafka, postgres) if set(answered) <= set(kafka + postgres) else None

            kafka, postgres = await until(all_logged, timeout_s=60)
        print(f"broker away: waiting {[(c, round(s, 1)) for c, s, _ in waiting]}, after them "
              f"{[(c, round(s, 2)) for c, s, _ in after]}; {len(answered)} rows answered, "
              f"{sum(kafka.values())} logged through Kafka, {sum(postgres.values())} through "
              "PostgreSQL")  # fmt: skip
        logged = kafka + postgres
        assert [rid for rid, n in logged.items() if n > 1] == []  # once, across both paths
        assert set(answered) <= set(logged)
        # The requests that found the broker away were refused after the producer's timeout;
        # the ones after them were answered at once, logged in PostgreSQL.
        assert [c for c, _, _ in waiting] == [503] * len(waiting)  # typed, with Retry-After
        # ... after LOG_PRODUCE_TIMEOUT_S (5 s), not the other producers' 15 s
        assert max(s for _, s, _ in waiting) < 12
        assert [c for c, _, _ in after] == [200] * len(after)
        assert {rid for _, _, ids in after for rid in ids} <= set(postgres)
    finally:
        stop_services(stack, [process])


def test_rows_answered_while_the_broker_is_away_are_logged_once(own_stack: LocalStack) -> None:
    asyncio.run(_broker_away(own_stack))


async def _two_workers(stack: LocalStack) -> None:
    info, name = stack.info(), f"{MODEL}-workers"
    env = {**KAFKA_LOG, "DRIFTLINE_SERVE_WORKERS": "2"}
    (process,) = start_services(stack, info, ["deployment#2"], env)
    try:
        wait_until_ready([process], timeout_s=180)
        workers = [
            c
            for c in psutil.Process(process.ref.pid).children()
            if "spawn_main" in " ".join(c.cmdline())
        ]
        assert len(workers) == 2  # two processes accept on the one port
        rows = await _deploy(info, name)
        async with httpx.AsyncClient(headers=stack_headers(info, "publisher"), timeout=30) as http:

            async def ready() -> Any:  # both workers load the model before answering 200
                answers = [
                    await http.get(f"{process.url}/v2/models/{name}/ready") for _ in range(6)
                ]
                return all(a.status_code == 200 for a in answers)

            await until(ready, timeout_s=90)
            await asyncio.sleep(3.0)  # both producers connected (else PostgreSQL logs)
            served = []
            for start in range(0, 120, 6):  # a connection each: both workers answer some
                async with httpx.AsyncClient(headers=http.headers, timeout=30) as one:
                    served += await _predict(one, process.url, rows[start : start + 6], name)
        logged = await _logged_on_kafka(info, name)
        ids = [rid for r in logged for rid in orjson.loads(r.value)["request_id"]]
        assert Counter(ids) == Counter(served)
    finally:
        stop_services(stack, [process])


def test_two_workers_share_one_port_and_one_log(own_stack: LocalStack) -> None:
    asyncio.run(_two_workers(own_stack))
