"""Deployment journeys on the real local stack: approve, serve, canary, roll back, log."""

from __future__ import annotations

import asyncio
import pickle
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pandas as pd
import pytest
import skops.io as sio
from aiokafka import ConsumerRecord
from sklearn.datasets import load_breast_cancer
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sqlalchemy import func, select, text

from driftline.deployment.app import definition
from driftline.deployment.models.predictor import Predicted
from driftline.deployment.prediction_log.insert import append_document, append_sql, features_json
from driftline.deployment.serving.served_rows import ServedRows
from driftline.deployment.settings import DeploymentSettings
from driftline.deployment.tables import (
    model_versions,
    open_prediction_batches,
)
from driftline.runtime.http import build_http_app
from driftline.runtime.service import ServiceRuntime
from driftline.stack.info import StackInfo
from driftline_contracts import topics
from driftline_contracts.codec import decode
from tests.integration.deployment_steps import (
    apply_spec,
    approve,
    predict_with_feedback,
    until,
    upload,
)
from tests.integration.kafka_helpers import environment, header, read_all, read_topic
from tests.tokens import stack_headers

pytestmark = pytest.mark.integration
FORGED = {"X-Driftline-Actor": "user:mallory", "X-Driftline-Role": "admin"}

UID = uuid.uuid4().hex[:10]
MODEL = f"cancer-{UID}"
CANARY = {"steps": [50.0, 100.0], "min_requests": 50, "min_duration_s": 0}


@pytest.fixture(scope="module")
async def deployment(local_stack: StackInfo) -> AsyncIterator[ServiceRuntime]:
    """The deployment service running in-process, judging and batching quickly."""
    fast = {
        "DRIFTLINE_DEPLOYMENT__JUDGE_INTERVAL_S": "0.3",
        "DRIFTLINE_DEPLOYMENT__LOG_FLUSH_INTERVAL_S": "0.5",
    }
    with environment({**local_stack.env(), **fast}):
        settings = DeploymentSettings()
    runtime = ServiceRuntime(definition(), settings)
    await runtime.start()
    yield runtime
    await runtime.stop()


@pytest.fixture(scope="module")
async def client(
    local_stack: StackInfo, deployment: ServiceRuntime
) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP client on the service's ASGI app (the runtime is started by the fixture above)."""
    transport = httpx.ASGITransport(app=build_http_app(deployment))
    app = stack_headers(local_stack, "publisher")  # the application scores and sends labels
    async with httpx.AsyncClient(
        transport=transport, base_url="http://deployment", headers=app
    ) as http:
        yield http


@pytest.fixture(scope="module")
def data() -> tuple[list[dict[str, float]], list[int]]:
    """Breast-cancer rows as feature dicts, and their labels."""
    frame, target = load_breast_cancer(return_X_y=True, as_frame=True)
    return frame.to_dict(orient="records"), [int(v) for v in target]


async def _caused(stack: StackInfo, topic: str, event_id: str) -> Any:
    def match(record: ConsumerRecord) -> bool:
        return header(record, "ce_causationid") == event_id

    (record,) = await read_topic(stack.kafka_bootstrap, topic, match, timeout_s=30)
    return decode(record.headers, record.value)[1]


async def _traffic(
    http: httpx.AsyncClient, rows: list[dict[str, float]], labels: list[int], rounds: int
) -> list[dict[str, Any]]:
    """Predict in batches of 20 rows and send each batch's true labels back."""
    served = []
    for start in range(0, rounds * 20, 20):
        batch = [i % len(rows) for i in range(start, start + 20)]
        served.extend(await predict_with_feedback(http, MODEL, rows, labels, batch))
    return served


async def _labels_need_a_writer(
    stack: StackInfo, client: httpx.AsyncClient, request_id: str
) -> None:
    """Labels drive retrains: anonymous ones are 401, a viewer's 403 (a viewer may score)."""
    url, body = f"/v1/models/{MODEL}/feedback", {"labels": {request_id: 1}}
    anonymous = client.build_request("POST", url, json=body, headers=FORGED)
    del anonymous.headers["Authorization"]
    assert (await client.send(anonymous)).status_code == 401
    viewer = stack_headers(stack, "viewer")
    assert (await client.post(url, json=body, headers=viewer)).status_code == 403
    scored = await client.post(
        f"/v1/models/{MODEL}/predict", json={"instances": []}, headers=viewer
    )
    assert scored.status_code not in (401, 403)  # an empty batch is 422, but not refused


async def test_happy_journey(
    local_stack: StackInfo,
    deployment: ServiceRuntime,
    client: httpx.AsyncClient,
    data: tuple[list[dict[str, float]], list[int]],
) -> None:
    """First version promoted; a bad second one canaried on live traffic and rolled back."""
    rows, labels = data
    good = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    good.fit(_frame(rows), labels)
    bad = DummyClassifier(strategy="most_frequent").fit(_frame(rows), labels)
    await apply_spec(local_stack, MODEL, CANARY, deployment)

    v1 = await upload(deployment, MODEL, 1, sio.dumps(good))
    promoted = await _caused(
        local_stack, topics.MODEL_PROMOTED, await approve(local_stack, MODEL, 1, v1)
    )
    assert (promoted.model.version, promoted.via, promoted.previous) == (1, "direct", None)

    answer = await client.post(f"/v1/models/{MODEL}/predict", json={"instances": rows[:3]})
    assert answer.status_code == 200
    first = answer.json()["predictions"]
    await _labels_need_a_writer(local_stack, client, first[0]["request_id"])
    assert [p["prediction"] for p in first] == [int(v) for v in good.predict(_frame(rows[:3]))]
    assert {p["variant"] for p in first} == {"champion"}
    assert set(first[0]["probabilities"]) == {"0", "1"}
    missing = {k: v for k, v in rows[0].items() if k != "mean radius"}
    refused = await client.post(f"/v1/models/{MODEL}/predict", json={"instances": [missing]})
    assert refused.status_code == 422
    assert "mean radius" in refused.text

    await _open_inference(client, rows[:2], [p["prediction"] for p in first[:2]])

    v2 = await upload(deployment, MODEL, 2, sio.dumps(bad))
    started = await _caused(
        local_stack, topics.CANARY_STARTED, await approve(local_stack, MODEL, 2, v2)
    )
    assert [s.traffic_percent for s in started.steps] == [50.0, 100.0]
    assert (started.model.version, started.champion.version) == (2, 1)

    served = await _traffic(client, rows, labels, rounds=12)
    assert {p["variant"] for p in served} == {"champion", "canary"}

    def rolled(record: ConsumerRecord) -> bool:
        return header(record, "ce_subject") == MODEL

    (record,) = await read_topic(local_stack.kafka_bootstrap, topics.CANARY_ROLLED_BACK, rolled)
    _, rollback = decode(record.headers, record.value)
    assert rollback.canary_id == started.canary_id
    assert rollback.verdict == "fail"
    assert "accuracy_lower" in {r.code for r in rollback.reasons}

    after = await client.post(f"/v1/models/{MODEL}/predict", json={"instances": rows[:10]})
    assert {(p["variant"], p["model_version"]) for p in after.json()["predictions"]} == {
        ("champion", 1)
    }
    await _logged_and_labelled(local_stack, {p["request_id"] for p in served})


async def _open_inference(
    http: httpx.AsyncClient, rows: list[dict[str, float]], expected: list[Any]
) -> None:
    assert (await http.get("/v2/health/live")).json() == {"live": True}
    ready = await http.get(f"/v2/models/{MODEL}/ready")
    assert ready.status_code == 200
    assert ready.json()["ready"] is True
    inputs = [
        {"name": name, "shape": [len(rows)], "datatype": "FP64", "data": [r[name] for r in rows]}
        for name in rows[0]
    ]
    answer = await http.post(f"/v2/models/{MODEL}/infer", json={"id": "r1", "inputs": inputs})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["model_name"], body["id"], body["model_version"]) == (MODEL, "r1", "1")
    assert body["outputs"][0]["data"] == expected
    assert body["outputs"][1]["shape"] == [len(rows), 2]
    wrong = await http.post(f"/v2/models/{MODEL}/infer", json={"inputs": inputs[1:]})
    assert wrong.status_code == 422
    assert "mean radius" in wrong.text


async def _logged_and_labelled(stack: StackInfo, request_ids: set[str]) -> None:
    def ours(record: ConsumerRecord) -> bool:
        return header(record, "ce_subject") == MODEL

    async def logged() -> set[str]:
        records = await read_all(stack.kafka_bootstrap, topics.PREDICTIONS_LOGGED, ours)
        events = [decode(r.headers, r.value)[1] for r in records]
        return {row.request_id for e in events for row in e.rows or ()}

    async def labelled() -> set[str]:
        truth = await read_all(stack.kafka_bootstrap, topics.GROUND_TRUTH_RECEIVED, ours)
        return {rid for r in truth for rid in decode(r.headers, r.value)[1].labels}

    # Both events leave through relays that publish in the background, each at its own pace:
    # every label event being on the topic once every PredictionsLogged is, is not a guarantee,
    # so each is awaited in turn (CI stop 22 read the labels once, while 40 were still on
    # their way).
    seen: dict[str, set[str]] = {"logged": set(), "labelled": set()}

    async def all_on(kind: str, read: Callable[[], Awaitable[set[str]]]) -> bool:
        seen[kind].update(await read())
        return request_ids <= seen[kind]

    await until(lambda: all_on("logged", logged), timeout_s=30)
    await until(lambda: all_on("labelled", labelled), timeout_s=30)


async def test_a_batch_left_by_a_dead_process_is_sent_once(
    local_stack: StackInfo, deployment: ServiceRuntime, data: Any
) -> None:
    """Rows logged under a batch that is still registered an hour later (its process died
    before sending it) are read back by the recovery pass and sent in one PredictionsLogged;
    the registration goes with it."""
    rows, _ = data
    batch_id = f"batch-orphan-{UID}"
    served = ServedRows(
        model=MODEL, canary_id=None, created_at=datetime.now(UTC) - timedelta(hours=1),
        request_ids=[f"orphan-{UID}-{i}" for i in range(3)], features=rows[:3],
        versions=[1, 1, 1], variants=["champion"] * 3,
        predicted=Predicted([1, 0, 1], [None] * 3, [0.9, 0.8, 0.7], [None] * 3),
        latencies=[1.0] * 3,
    )  # fmt: skip
    registration = [batch_id, MODEL, 1, served.created_at]
    document = append_document([served], [features_json(served)], [[batch_id] * 3], [registration])
    async with deployment.units() as uow:
        await uow.session.execute(text(append_sql(named=True)), {"document": document})

    def ours(record: ConsumerRecord) -> bool:
        return batch_id.encode() in record.value

    async def sent() -> list[Any]:
        records = await read_all(local_stack.kafka_bootstrap, topics.PREDICTIONS_LOGGED, ours)
        return [decode(r.headers, r.value)[1] for r in records]

    (event,) = await until(sent, timeout_s=30)
    assert [r.request_id for r in event.rows or ()] == served.request_ids
    assert [r.features for r in event.rows or ()] == rows[:3]
    async with deployment.units() as uow:
        left = await uow.session.scalar(
            select(func.count())
            .select_from(open_prediction_batches)
            .where(open_prediction_batches.c.batch_id == batch_id)
        )
    assert left == 0
    await asyncio.sleep(2)  # further recovery rounds send nothing more
    assert len(await sent()) == 1


async def test_unsafe_artifact_is_never_served(
    local_stack: StackInfo,
    tmp_path: Any,
    deployment: ServiceRuntime,
    client: httpx.AsyncClient,
) -> None:
    """A pickle posing as a model is recorded load_failed, never run, never promoted."""
    name = f"evil-{UID}"
    marker = tmp_path / "pwned"
    blob = pickle.dumps(_Payload(str(marker)))
    artifact = await upload(deployment, name, 1, blob)
    await approve(local_stack, name, 1, artifact)

    async def status() -> Any:
        async with deployment.units() as uow:
            return await uow.session.scalar(
                select(model_versions.c.status).where(model_versions.c.model == name)
            )

    assert await until(status) == "load_failed"
    assert not marker.exists()
    answer = await client.post(f"/v1/models/{name}/predict", json={"instances": [{"a": 1}]})
    assert answer.status_code == 404
    ready = await client.get(f"/v2/models/{name}/ready")
    assert ready.status_code == 404


class _Payload:
    """Unpickling this would create the marker file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.path, "w"))


def _frame(rows: list[dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows)
