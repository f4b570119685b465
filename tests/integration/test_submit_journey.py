"""Models trained elsewhere, on the real local stack: a notebook's LightGBM model submitted
through the client is scored, gated, canaried and promoted like a trained version, its
lineage naming the run it came from; a pickle or an untrusted type is refused, nothing runs.

Training is served over HTTP (uvicorn, for the notebook's synchronous client); registry and
deployment run in-process. v1 is the service's own run of the spec (promoted directly, the
first version); v2 is the notebook's model, which must pass a canary against it.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import skops.io as sio
from sqlalchemy import select

from driftline.deployment.app import definition as deployment_definition
from driftline.deployment.settings import DeploymentSettings
from driftline.deployment.tables import canary_policies
from driftline.registry.app import definition as registry_definition
from driftline.runtime.http import build_http_app
from driftline.runtime.service import ServiceRuntime
from driftline.stack.info import StackInfo
from driftline.stack.tokens import role_tokens
from driftline.training.adapters.postgres import PostgresTrainingRepository
from driftline.training.app import definition as training_definition
from driftline.training.settings import TrainingSettings
from driftline_contracts import topics
from driftline_contracts.codec import decode
from driftline_contracts.events.data import DataValidated
from driftline_contracts.examples import example
from tests.hostile_models import Custom, Payload
from tests.integration.cli_process import run_cli
from tests.integration.deployment_steps import predict_with_feedback, until
from tests.integration.kafka_helpers import environment, header, read_all, settings_from
from tests.integration.lightgbm_notebook import cancer, notebook
from tests.integration.s3_datasets import put_frame
from tests.integration.served_runtime import served
from tests.signing import publish_signed

pytestmark = [pytest.mark.integration, pytest.mark.slow]

UID = uuid.uuid4().hex[:8]
MODEL, DATASET = f"cancer-submit-{UID}", f"cancer-submit-data-{UID}"
FAST = {
    "DRIFTLINE_TRAINING__POLL_INTERVAL_S": "0.2",
    "DRIFTLINE_DEPLOYMENT__JUDGE_INTERVAL_S": "0.3",
    "DRIFTLINE_DEPLOYMENT__LOG_FLUSH_INTERVAL_S": "0.5",
    "DRIFTLINE_DEPLOYMENT__JUDGE_ALPHA": "0.001",
    "DRIFTLINE_DEPLOYMENT__LATENCY_ALLOWED_INCREASE": "50",
}


@dataclass
class Platform:
    """The three services of the journey, and how to reach them."""

    training_url: str
    training: ServiceRuntime
    registry: httpx.AsyncClient
    deployment: httpx.AsyncClient
    deployment_runtime: ServiceRuntime
    tokens: dict[str, str]


@pytest.fixture(scope="module")
async def platform(local_stack: StackInfo) -> AsyncIterator[Platform]:
    """Training over HTTP; registry and deployment in-process; the stack's role tokens."""
    env = {**local_stack.env(), **FAST}
    with environment(env):
        training = ServiceRuntime(training_definition(), TrainingSettings())
        deployment = ServiceRuntime(deployment_definition(), DeploymentSettings())
    registry = ServiceRuntime(registry_definition(), settings_from(env))
    async with served(training) as url:
        await registry.start()
        await deployment.start()
        assert local_stack.auth_tokens_file is not None
        tokens = role_tokens(local_stack.auth_tokens_file)
        publisher = {"Authorization": f"Bearer {tokens['publisher']}"}
        clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=build_http_app(r)),
                                     base_url="http://svc", headers=publisher)
                   for r in (registry, deployment)]  # fmt: skip
        yield Platform(url, training, clients[0], clients[1], deployment, tokens)
        for client in clients:
            await client.aclose()
        await deployment.stop()
        await registry.stop()


def _spec() -> dict[str, Any]:
    return {
        "model": MODEL, "dataset": DATASET, "target": "target", "task": "classification",
        "trainer": {"estimator": "sklearn.ensemble.RandomForestClassifier",
                    "params": {"n_estimators": 30, "max_depth": 5}},
        "gates": [{"metric": "accuracy", "min": 0.85}],
        "canary": {"steps": [50.0, 100.0], "min_requests": 100, "min_duration_s": 0},
    }  # fmt: skip


async def _events(stack: StackInfo, topic: str, timeout_s: float = 90) -> list[Any]:
    """Distinct events of ``topic`` about the model, once at least one exists."""

    async def found() -> list[Any]:
        records = await read_all(stack.kafka_bootstrap, topic,
                                 lambda r: header(r, "ce_subject") == MODEL)  # fmt: skip
        return list({e.id: x for e, x in (decode(r.headers, r.value) for r in records)}.values())

    return await until(found, timeout_s=timeout_s)


async def _promoted(stack: StackInfo, version: int, timeout_s: float = 90) -> Any:
    async def found() -> Any:
        events = await _events(stack, topics.MODEL_PROMOTED, timeout_s)
        return next((e for e in events if e.model.version == version), None)

    return await until(found, timeout_s=timeout_s)


async def _stored(platform: Platform) -> bool:
    async with platform.training.units() as uow:
        spec = await PostgresTrainingRepository(uow.session).spec(MODEL)
    async with platform.deployment_runtime.units() as uow:
        policy = await uow.session.scalar(
            select(canary_policies.c.policy).where(canary_policies.c.model == MODEL)
        )
    return spec is not None and policy is not None


async def _first_version(platform: Platform, stack: StackInfo) -> None:
    """Spec applied through the registry, data accepted: v1 trains and goes to production."""
    applied = await platform.registry.post("/v1/specs", json=_spec())
    assert applied.status_code == 201, applied.text
    await until(lambda: _stored(platform), timeout_s=60)
    ref = await asyncio.to_thread(put_frame, stack, DATASET, cancer())
    validated = example(DataValidated).model_copy(update={"dataset": ref, "models": [MODEL]})
    await publish_signed(stack, validated, source="cli/test", actor="service:validation")

    async def outcome() -> Any:
        for topic in (topics.MODEL_PROMOTED, topics.TRAINING_FAILED):
            records = await read_all(stack.kafka_bootstrap, topic,
                                     lambda r: header(r, "ce_subject") == MODEL)  # fmt: skip
            if records:
                return decode(records[0].headers, records[0].value)[1]
        return None

    first = await until(outcome, timeout_s=180)
    assert getattr(first, "reason", None) is None, first.reason


async def _drive_canary(platform: Platform, stack: StackInfo) -> Any:
    """Serve labelled traffic until v2's canary ends; its promotion."""
    frame = cancer()
    rows = frame.drop(columns="target").to_dict(orient="records")
    labels = [int(v) for v in frame["target"]]
    await _events(stack, topics.CANARY_STARTED)
    start = 0
    async with asyncio.timeout(120):
        while True:
            batch = [(start + i) % len(rows) for i in range(100)]
            await predict_with_feedback(platform.deployment, MODEL, rows, labels, batch)
            start += 100
            promoted = await _events(stack, topics.MODEL_PROMOTED)
            done = [p for p in promoted if p.model.version == 2]
            rolled = await read_all(stack.kafka_bootstrap, topics.CANARY_ROLLED_BACK,
                                    lambda r: header(r, "ce_subject") == MODEL)  # fmt: skip
            assert not rolled, "the notebook's model was rolled back"
            if done:
                return done[0]


async def test_a_notebooks_lightgbm_model_is_gated_canaried_and_promoted(
    platform: Platform, local_stack: StackInfo, tmp_path: Path
) -> None:
    await _first_version(platform, local_stack)
    seen = await asyncio.to_thread(
        notebook, platform.training_url, MODEL, platform.tokens["publisher"]
    )
    done, run_id = seen["done"], seen["run_id"]
    assert done.status == "succeeded", done.failure
    assert (done.submitted_by, done.submitted_from_run) == ("user:publisher", run_id)
    assert seen["points"] == len(seen["losses"]) == 60  # the whole curve was logged

    async def registered() -> Any:
        found = await platform.registry.get(f"/v1/models/{MODEL}/versions/2")
        return found.json() if found.status_code == 200 else None

    version = await until(registered, timeout_s=60)
    assert version["run_id"] == done.submission_id
    assert version["trained_by"] == "user:publisher"
    assert version["status"] == "approved", version
    assert all(g["passed"] for g in version["gates"])

    promoted = await _drive_canary(platform, local_stack)
    assert (promoted.via, promoted.previous.version) == ("canary", 1)

    trained = [e for e in await _events(local_stack, topics.MODEL_TRAINED)
               if e.run_id == done.submission_id]  # fmt: skip
    assert [(e.trainer, e.submitted_from_run) for e in trained] == [("user:publisher", run_id)]
    assert trained[0].artifact.media_type == "application/vnd.driftline.native-model+zip"
    async with httpx.AsyncClient(base_url=platform.training_url) as http:
        record = (await http.get(f"/v1/runs/{done.submission_id}")).json()
        tracked = (await http.get(f"/v1/tracking/runs/{run_id}")).json()
    assert record["lineage"]["submitted_from_run"] == run_id
    assert record["train_rows"] == 0
    assert tracked["tags"][f"driftline.submitted.{MODEL}"] == done.submission_id

    # The same file sent again (a retried upload) is that submission, not a second version.
    again = tmp_path / "model.zip"
    stored = record["lineage"]["submitted_artifact"]
    again.write_bytes(await platform.training.store.get_bytes(stored["uri"]))
    code, answer = await asyncio.to_thread(
        _cli, platform.training_url, platform.tokens["publisher"], again
    )
    assert (code, answer["submission_id"], answer["created"]) == (0, done.submission_id, False)
    assert answer["metrics"] == record["metrics"]
    versions = (await platform.registry.get(f"/v1/models/{MODEL}/versions")).json()
    assert [v["version"] for v in versions] == [1, 2]


def _cli(url: str, token: str, path: Path) -> tuple[int, dict[str, Any]]:
    args = ["models", "submit", str(path), "--model", MODEL, "--json", "--url", url,
            "--token", token, "--timeout", "120"]  # fmt: skip
    result = run_cli(*args)
    return result.returncode, json.loads(result.stdout)


async def test_a_pickle_or_an_untrusted_type_is_refused_with_the_reason_and_nothing_runs(
    platform: Platform, local_stack: StackInfo, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    evil, custom = tmp_path / "model.pkl", tmp_path / "custom.skops"
    evil.write_bytes(pickle.dumps(Payload(str(marker))))
    custom.write_bytes(sio.dumps(Custom()))
    url, tokens = platform.training_url, platform.tokens
    async with httpx.AsyncClient(base_url=url) as http:
        viewer = await http.post(
            f"/v1/submissions/{MODEL}",
            content=evil.read_bytes(),
            headers={"Authorization": f"Bearer {tokens['viewer']}"},
        )
        anonymous = await http.post(f"/v1/submissions/{MODEL}", content=evil.read_bytes())
    assert (viewer.status_code, anonymous.status_code) == (403, 401)
    publisher = {"Authorization": f"Bearer {tokens['publisher']}"}
    async with httpx.AsyncClient(base_url=url, headers=publisher) as http:
        answers = {
            "unknown_model": await http.post("/v1/submissions/no-such-model", content=b"PK"),
            "unknown_run": await http.post(f"/v1/submissions/{MODEL}", content=b"PK",
                                           params={"run_id": "f" * 32}),
            "odd_run_id": await http.post(f"/v1/submissions/{MODEL}", content=b"PK",
                                          params={"run_id": "../x"}),
            "empty": await http.post(f"/v1/submissions/{MODEL}", content=b""),
            "unknown_submission": await http.get("/v1/submissions/run-nope"),
        }  # fmt: skip
    assert {k: r.status_code for k, r in answers.items()} == {
        "unknown_model": 404, "unknown_run": 404, "odd_run_id": 422, "empty": 422,
        "unknown_submission": 404,
    }  # fmt: skip
    refused = {}
    for path, reason in [(evil, "pickle"), (custom, "untrusted types")]:
        code, answer = await asyncio.to_thread(_cli, url, tokens["publisher"], path)
        assert code == 1
        assert answer["status"] == "failed"
        assert answer["failure"]["code"] == "submission_refused"
        assert reason in answer["failure"]["message"].lower(), answer["failure"]
        refused[answer["submission_id"]] = answer["failure"]["message"]
    assert not marker.exists()
    failed = {e.run_id: e for e in await _events(local_stack, topics.TRAINING_FAILED)}
    assert {i: (failed[i].reason.code, failed[i].reason.message) for i in refused} == {
        i: ("submission_refused", message) for i, message in refused.items()
    }
