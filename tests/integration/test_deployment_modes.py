"""Deployment beyond predict, on the real local stack: shadow, manual promotion, KServe V2
metadata, batch scoring and streaming scoring."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pandas as pd
import pytest
from aiokafka import ConsumerRecord
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from driftline.deployment.app import definition
from driftline.deployment.settings import DeploymentSettings
from driftline.runtime.http import build_http_app
from driftline.runtime.service import ServiceRuntime
from driftline.stack.info import StackInfo
from driftline_contracts import topics
from driftline_contracts.codec import decode
from tests.integration.deployment_steps import apply_spec, deploy, until
from tests.integration.kafka_helpers import (
    environment,
    header,
    produce_raw,
    read_all,
    read_topic,
)
from tests.tokens import as_user, stack_headers, with_users

pytestmark = pytest.mark.integration
CAROL = ("user:carol", "approver")

UID = uuid.uuid4().hex[:8]
SHADOWED, MANUAL = f"shadowed-{UID}", f"manual-{UID}"
SHADOW = {"steps": [100.0], "shadow": True, "min_requests": 60, "min_duration_s": 0}
Rows = list[dict[str, float]]


@pytest.fixture(scope="module")
async def deployment(local_stack: StackInfo) -> AsyncIterator[ServiceRuntime]:
    """Deployment in-process: quick judging and batching, latency not judged (shared cores)."""
    fast = {
        "DRIFTLINE_DEPLOYMENT__JUDGE_INTERVAL_S": "0.3",
        "DRIFTLINE_DEPLOYMENT__LOG_FLUSH_INTERVAL_S": "0.5",
        "DRIFTLINE_DEPLOYMENT__LATENCY_ALLOWED_INCREASE": "50",
        # A group of its own: tansu never finished rebalancing the shared group after an
        # earlier module's deployment runtime had left it (responses then never came).
        "DRIFTLINE_DEPLOYMENT__STREAM_GROUP": f"driftline.deployment.predict-requests.{UID}",
    }
    with environment({**with_users(local_stack.env(), CAROL), **fast}):
        settings = DeploymentSettings()
    runtime = ServiceRuntime(definition(), settings)
    await runtime.start()
    yield runtime
    await runtime.stop()


@pytest.fixture(scope="module")
async def client(
    local_stack: StackInfo, deployment: ServiceRuntime
) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP client on the service's ASGI app."""
    transport = httpx.ASGITransport(app=build_http_app(deployment))
    app = stack_headers(local_stack, "publisher")  # the application scores and sends labels
    async with httpx.AsyncClient(
        transport=transport, base_url="http://deployment", headers=app
    ) as http:
        yield http


@pytest.fixture(scope="module")
def data() -> tuple[Rows, list[int], Any, Any]:
    """Breast-cancer rows, labels, and two close models (v1 and v2)."""
    frame, target = load_breast_cancer(return_X_y=True, as_frame=True)
    labels = [int(v) for v in target]
    v1 = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(frame, labels)
    v2 = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=1000))
    return frame.to_dict(orient="records"), labels, v1, v2.fit(frame, labels)


async def _deploy(
    stack: StackInfo, runtime: ServiceRuntime, name: str, version: int, model: Any
) -> tuple[str, Any]:
    """Approve ``model`` as ``name`` v``version``: the approval id and what it caused."""
    sent = await deploy(stack, runtime, name, version, model)
    return sent, await _caused(stack, sent)


async def _caused(stack: StackInfo, event_id: str, topic: str | None = None) -> Any:
    def match(record: ConsumerRecord) -> bool:
        return header(record, "ce_causationid") == event_id

    wanted = [topic] if topic else [topics.CANARY_STARTED, topics.MODEL_PROMOTED]
    async with asyncio.timeout(40):
        while True:
            for name in wanted:
                found = await read_all(stack.kafka_bootstrap, name, match)
                if found:
                    return decode(found[0].headers, found[0].value)[1]
            await asyncio.sleep(0.3)


async def test_shadow_answers_never_reach_the_caller_and_agreement_decides(
    local_stack: StackInfo, deployment: ServiceRuntime, client: httpx.AsyncClient, data: Any
) -> None:
    """Shadow step: every answer is v1's; v2's paired answers are logged, compared, promoted."""
    rows, _, v1, v2 = data
    await apply_spec(local_stack, SHADOWED, {**SHADOW, "shadow_min_agreement": 0.8})
    await asyncio.sleep(1.0)  # the spec is consumed before the approval on another topic
    assert (await _deploy(local_stack, deployment, SHADOWED, 1, v1))[1].via == "direct"
    approval, started = await _deploy(local_stack, deployment, SHADOWED, 2, v2)
    assert [(s.shadow, s.traffic_percent) for s in started.steps] == [(True, 100.0), (False, 100.0)]

    served: list[dict[str, Any]] = []
    for start in range(0, 80, 20):
        answer = await client.post(
            f"/v1/models/{SHADOWED}/predict", json={"instances": rows[start : start + 20]}
        )
        assert answer.status_code == 200, answer.text
        served += answer.json()["predictions"]
    assert {(p["variant"], p["model_version"]) for p in served} == {("champion", 1)}
    expected = v1.predict(pd.DataFrame(rows[:80]))
    assert [p["prediction"] for p in served] == [int(v) for v in expected]

    promoted = await _caused(local_stack, approval, topics.MODEL_PROMOTED)
    assert (promoted.model.version, promoted.via) == (2, "canary")
    report = (await client.get(f"/v1/models/{SHADOWED}/shadow")).json()
    assert report["canary_id"] == started.canary_id
    assert report["shadow"]["version"] == 2
    assert report["agreement"]["pairs"] >= 60
    agree = (v1.predict(pd.DataFrame(rows[:80])) == v2.predict(pd.DataFrame(rows[:80]))).mean()
    assert report["agreement"]["agreement"] == pytest.approx(agree, abs=0.05)
    checks = {c["metric"]: c for c in report["judgement"]["checks"]}
    assert checks["agreement"]["passed"] is True
    await _shadow_rows_logged(local_stack, {p["request_id"] for p in served})


async def _shadow_rows_logged(stack: StackInfo, request_ids: set[str]) -> None:
    def ours(record: ConsumerRecord) -> bool:
        return header(record, "ce_subject") == SHADOWED

    async def shadow_ids() -> set[str]:
        records = await read_all(stack.kafka_bootstrap, topics.PREDICTIONS_LOGGED, ours)
        rows = [row for r in records for row in decode(r.headers, r.value)[1].rows or ()]
        return {row.request_id for row in rows if row.variant == "shadow"}

    found = await until(shadow_ids)
    assert found <= request_ids  # paired: the shadow rows carry the champion's request ids
    assert len(found) >= 60


async def test_an_approver_promotes_the_running_canary_at_once(
    local_stack: StackInfo, deployment: ServiceRuntime, client: httpx.AsyncClient, data: Any
) -> None:
    """Manual promotion needs a user with the approver role; the event names them."""
    rows, _, v1, v2 = data
    await _deploy(local_stack, deployment, MANUAL, 1, v1)
    approval, started = await _deploy(local_stack, deployment, MANUAL, 2, v2)
    assert started.canary_id
    url = f"/v1/models/{MANUAL}/promote"
    forged = {"X-Driftline-Actor": "user:dave", "X-Driftline-Role": "approver"}
    bare = client.build_request("POST", url, headers=forged)
    del bare.headers["Authorization"]
    assert (await client.send(bare)).status_code == 401  # role headers are no identity
    refused = await client.post(url, headers=forged)  # the publisher's token decides: 403
    assert refused.status_code == 403
    approver = as_user(*CAROL)
    wrong = await client.post(url, json={"version": 3}, headers=approver)
    assert wrong.status_code == 409
    done = await client.post(url, json={"version": 2}, headers=approver)
    assert done.status_code == 200, done.text
    assert (done.json()["version"], done.json()["previous"]) == (2, 1)

    def ours(record: ConsumerRecord) -> bool:
        return header(record, "ce_id") == done.json()["event_id"]

    (record,) = await read_topic(local_stack.kafka_bootstrap, topics.MODEL_PROMOTED, ours)
    envelope, event = decode(record.headers, record.value)
    assert (event.via, event.promoted_by, envelope.actor) == ("manual", "user:carol", "user:carol")
    assert event.canary_id == started.canary_id
    # caused by v2's approval, in its lifecycle run: the promotion's lineage reaches the data
    assert (envelope.causationid, envelope.correlationid) == (approval, approval)
    answer = await client.post(f"/v1/models/{MANUAL}/predict", json={"instances": rows[:5]})
    assert {(p["variant"], p["model_version"]) for p in answer.json()["predictions"]} == {
        ("champion", 2)
    }
    assert (await client.post(url, headers=approver)).status_code == 409  # nothing left

    meta = (await client.get(f"/v2/models/{MANUAL}")).json()
    assert (meta["name"], meta["versions"], meta["platform"]) == (
        MANUAL,
        ["1", "2"],
        "scikit-learn",
    )
    assert [i["name"] for i in meta["inputs"]] == list(rows[0])
    assert {i["datatype"] for i in meta["inputs"]} == {"FP64"}
    assert meta["outputs"][1] == {"name": "predict_proba", "datatype": "FP64", "shape": [-1, 2]}
    assert (await client.get(f"/v2/models/{MANUAL}/versions/1")).status_code == 200
    assert (await client.get(f"/v2/models/{MANUAL}/versions/9")).status_code == 404
    assert (await client.get("/v2/models/no-such-model")).status_code == 404


async def test_a_dataset_object_is_scored_into_a_predictions_file(
    local_stack: StackInfo, deployment: ServiceRuntime, client: httpx.AsyncClient, data: Any
) -> None:
    """Batch scoring: CSV in the bucket → BatchScored with a file of one prediction per row."""
    rows = data[0]
    frame = pd.DataFrame(rows[:50]).assign(patient=[f"p{i}" for i in range(50)])
    stored = await deployment.store.put_bytes(
        f"scoring/{UID}.csv", frame.to_csv(index=False).encode()
    )
    outside = await client.post(
        f"/v1/models/{SHADOWED}/batch", json={"input_uri": "s3://elsewhere/x.csv"}
    )
    assert outside.status_code == 422
    accepted = await client.post(
        f"/v1/models/{SHADOWED}/batch", json={"input_uri": stored.uri, "id_column": "patient"}
    )
    assert accepted.status_code == 202, accepted.text
    scored = await _caused(local_stack, accepted.json()["event_id"], topics.BATCH_SCORED)
    assert (scored.job_id, scored.rows, scored.errors) == (accepted.json()["job_id"], 50, 0)
    assert (scored.variant, scored.model.version, scored.input_sha256) == (
        "champion", 2, stored.sha256,
    )  # fmt: skip
    blob = await deployment.store.get_bytes(
        scored.predictions.uri, sha256=scored.predictions.sha256
    )
    out = pd.read_csv(io.BytesIO(blob))
    assert list(out["patient"]) == list(frame["patient"])
    champion = await client.post(f"/v1/models/{SHADOWED}/predict", json={"instances": rows[:50]})
    assert list(out["prediction"]) == [p["prediction"] for p in champion.json()["predictions"]]


async def test_streaming_requests_are_answered_and_bad_ones_dead_lettered(
    local_stack: StackInfo, deployment: ServiceRuntime, data: Any
) -> None:
    """Requests on the topic get responses with their ids; malformed ones land in the DLQ."""
    rows, _, _, _ = data
    ids = [f"s-{UID}-{i}" for i in range(3)]
    good = [
        (MANUAL.encode(), json.dumps({"request_id": rid, "model": MANUAL, "features": rows[i]}))
        for i, rid in enumerate(ids)
    ]
    unknown = {"request_id": f"s-{UID}-x", "model": f"ghost-{UID}", "features": rows[0]}
    bad = [(None, f"not json {UID}"), (b"ghost", json.dumps(unknown))]
    await produce_raw(
        local_stack.kafka_bootstrap,
        topics.PREDICT_REQUESTS,
        [(key, value.encode(), []) for key, value in [*good, *bad]],
    )

    def ours(record: ConsumerRecord) -> bool:
        return UID in record.value.decode(errors="replace")

    responses = await read_topic(
        local_stack.kafka_bootstrap, topics.PREDICT_RESPONSES, ours, count=4, timeout_s=45
    )
    bodies = {b["request_id"]: b for b in (json.loads(r.value) for r in responses)}
    assert set(bodies) == {*ids, unknown["request_id"]}
    assert {(bodies[i]["model_version"], bodies[i]["error"]) for i in ids} == {(2, None)}
    assert "no servable version" in bodies[unknown["request_id"]]["error"]
    dead = await read_topic(
        local_stack.kafka_bootstrap, topics.dlq(topics.PREDICT_REQUESTS), ours, count=2
    )
    reasons = {header(r, "dlq-reason") or "" for r in dead}
    assert any("malformed scoring request" in r for r in reasons)
    assert any("no servable version" in r for r in reasons)
