"""An XGBoost spec trains into a native model archive (no pickle) and serves."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from driftline.deployment.app import definition as deployment_definition
from driftline.deployment.settings import DeploymentSettings
from driftline.runtime.http import build_http_app
from driftline.runtime.model_loading import load_estimator
from driftline.runtime.native_models import MEDIA_TYPE
from driftline.runtime.onnx_record import OnnxRecord
from driftline.runtime.service import ServiceRuntime
from driftline.stack.info import StackInfo
from driftline.training.app import definition as training_definition
from driftline.training.settings import TrainingSettings
from driftline_contracts import topics
from driftline_contracts.codec import decode
from driftline_contracts.events.data import DataValidated
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.events.training import ModelTrained
from driftline_contracts.examples import example
from driftline_contracts.modelspec import ModelSpec, spec_hash
from driftline_contracts.values import ModelRef
from tests.integration.deployment_steps import approve
from tests.integration.kafka_helpers import (
    end_offsets,
    environment,
    header,
    read_topic,
    until_consumed,
)
from tests.integration.s3_datasets import cancer_frame, put_frame
from tests.signing import publish_signed
from tests.tokens import stack_headers

pytest.importorskip("xgboost")
pytestmark = pytest.mark.integration

UID = uuid.uuid4().hex[:10]
DATASET = f"cancer-native-{UID}"
MODEL = f"cancer-xgb-{UID}"
SPEC_GROUP = "driftline.training.on_model_spec_applied"


async def _runtime(stack: StackInfo, definition: Any, settings_class: type) -> ServiceRuntime:
    with environment({**stack.env(), "DRIFTLINE_TRAINING__POLL_INTERVAL_S": "0.2"}):
        settings = settings_class()
    runtime = ServiceRuntime(definition(), settings)
    await runtime.start()
    return runtime


@pytest.fixture(scope="module")
async def services(local_stack: StackInfo) -> AsyncIterator[tuple[ServiceRuntime, ServiceRuntime]]:
    """Training and deployment running in-process on the stack."""
    training = await _runtime(local_stack, training_definition, TrainingSettings)
    deployment = await _runtime(local_stack, deployment_definition, DeploymentSettings)
    yield training, deployment
    await deployment.stop()
    await training.stop()


def _spec() -> ModelSpecApplied:
    spec = ModelSpec(model=MODEL, dataset=DATASET, target="target", task="classification",
                     trainer={"estimator": "xgboost.XGBClassifier",
                              "params": {"n_estimators": 30, "max_depth": 3}})  # fmt: skip
    return ModelSpecApplied(model=MODEL, dataset=DATASET, task="classification", target="target",
                            trainer="xgboost", spec_hash=spec_hash(spec),
                            spec=spec.model_dump(mode="json"))  # fmt: skip


async def _caused(stack: StackInfo, topic: str, event_id: str) -> Any:
    (record,) = await read_topic(
        stack.kafka_bootstrap, topic, lambda r: header(r, "ce_causationid") == event_id,
        timeout_s=90,
    )  # fmt: skip
    return decode(record.headers, record.value)[1]


async def _spec_handled(stack: StackInfo) -> None:
    """Wait until training has handled every spec published so far."""
    ends = await end_offsets(stack.kafka_bootstrap, topics.MODEL_SPEC_APPLIED)
    async with asyncio.timeout(60):
        await until_consumed(stack.kafka_bootstrap, [SPEC_GROUP], ends)


async def test_an_xgboost_spec_trains_and_serves(
    local_stack: StackInfo, services: tuple[ServiceRuntime, ServiceRuntime]
) -> None:
    _training, deployment = services  # training runs in the background
    ref = await asyncio.to_thread(put_frame, local_stack, DATASET, cancer_frame())
    await publish_signed(local_stack, _spec(), source="cli/test", actor="user:test")
    await _spec_handled(local_stack)  # so the data's run is caused by the data, not the spec
    validated = example(DataValidated).model_copy(update={"dataset": ref, "models": [MODEL]})
    sent = await publish_signed(local_stack, validated, source="cli/test", actor="user:test")
    trained = await _caused(local_stack, topics.MODEL_TRAINED, sent.id)
    assert isinstance(trained, ModelTrained)
    assert trained.artifact.media_type == MEDIA_TYPE
    assert trained.metrics["accuracy"] > 0.9

    approved = await approve(local_stack, MODEL, 1, trained.artifact)
    await _caused(local_stack, topics.MODEL_PROMOTED, approved)
    rows = cancer_frame().drop(columns="target").head(5).to_dict(orient="records")
    transport = httpx.ASGITransport(app=build_http_app(deployment))
    headers = stack_headers(local_stack, "publisher")
    async with httpx.AsyncClient(transport=transport, base_url="http://d", headers=headers) as http:
        answer = await http.post(f"/v1/models/{MODEL}/predict", json={"instances": rows})
    assert answer.status_code == 200, answer.text
    predictions = answer.json()["predictions"]
    assert [p["prediction"] for p in predictions] == [0, 0, 0, 0, 0]  # the first rows: malignant


ONNX_MODEL = f"cancer-onnx-{UID}"


async def test_an_onnx_spec_trains_exports_and_serves_with_onnx_runtime(
    local_stack: StackInfo, services: tuple[ServiceRuntime, ServiceRuntime]
) -> None:
    """serving: {runtime: onnx}: the run stores a checked export; deployment serves it."""
    _training, deployment = services
    ref = await asyncio.to_thread(put_frame, local_stack, DATASET, cancer_frame())
    spec = ModelSpec(model=ONNX_MODEL, dataset=DATASET, target="target", task="classification",
                     trainer={"estimator": "sklearn.ensemble.RandomForestClassifier",
                              "params": {"n_estimators": 20}},
                     serving={"runtime": "onnx"})  # fmt: skip
    applied = ModelSpecApplied(model=ONNX_MODEL, dataset=DATASET, task="classification",
                               target="target", trainer="sklearn", spec_hash=spec_hash(spec),
                               spec=spec.model_dump(mode="json"))  # fmt: skip
    await publish_signed(local_stack, applied, source="cli/test", actor="user:test")
    await _spec_handled(local_stack)
    validated = example(DataValidated).model_copy(update={"dataset": ref, "models": [ONNX_MODEL]})
    await publish_signed(local_stack, validated, source="cli/test", actor="user:test")
    # the spec alone queues a run when the dataset already has a version (the test above)
    (record,) = await read_topic(local_stack.kafka_bootstrap, topics.MODEL_TRAINED,
                                 lambda r: r.key == ONNX_MODEL.encode(), timeout_s=90)  # fmt: skip
    trained = decode(record.headers, record.value)[1]
    assert isinstance(trained, ModelTrained)
    store = deployment.store
    record = OnnxRecord.model_validate_json(
        await store.get_bytes(trained.artifact.uri.removesuffix("model.skops") + "onnx.json")
    )
    assert record.serving
    assert record.check.passed
    assert record.check.rows == trained.holdout_rows

    approved = await approve(local_stack, ONNX_MODEL, 1, trained.artifact)
    await _caused(local_stack, topics.MODEL_PROMOTED, approved)
    loaded = await deployment.deps.cache.get(ModelRef(name=ONNX_MODEL, version=1), trained.artifact)
    assert loaded.runtime == "onnx"
    frame = cancer_frame().drop(columns="target").head(20)
    transport = httpx.ASGITransport(app=build_http_app(deployment))
    headers = stack_headers(local_stack, "publisher")
    async with httpx.AsyncClient(transport=transport, base_url="http://d", headers=headers) as http:
        answer = await http.post(f"/v1/models/{ONNX_MODEL}/predict",
                                 json={"instances": frame.to_dict(orient="records")})  # fmt: skip
    assert answer.status_code == 200, answer.text
    served = answer.json()["predictions"]
    original, _ = load_estimator(await store.get_bytes(trained.artifact.uri))
    assert [p["prediction"] for p in served] == list(original.predict(frame))
    for row, expected in zip(served, original.predict_proba(frame), strict=True):
        assert abs(row["probabilities"]["1"] - expected[1]) <= 1e-5
