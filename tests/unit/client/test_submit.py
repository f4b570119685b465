"""Submitting models from the client: what is uploaded (never a pickle), where, and waiting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from driftline.client import AsyncClient, Client, ClientError
from driftline.client.submitting import SubmissionTimeoutError
from driftline.runtime.model_loading import load_estimator
from driftline.runtime.native_models import is_native_archive
from tests.unit.training.builders import cancer

RUN_ID = "a" * 32
URLS = {"training": "http://training.test"}


def _status(state: str = "queued", failure: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "submission_id": "run-1", "model": "churn", "status": state,
        "dataset": {"name": "churn", "version": 3, "uri": "s3://b/k", "sha256": "f" * 64,
                    "format": "csv"},
        "sha256": "e" * 64, "submitted_by": "user:ann", "submitted_from_run": RUN_ID,
        "failure": failure,
    }  # fmt: skip


class FakeTraining:
    """Answers submissions; the status moves queued -> running -> the ``ending`` state."""

    def __init__(self, ending: str = "succeeded") -> None:
        self.requests: list[httpx.Request] = []
        self.states = ["queued", "running", ending]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path.startswith("/v1/tracking/runs"):
            return httpx.Response(201, json={
                "run_id": RUN_ID, "experiment_id": "1", "experiment": "churn", "name": "gbm",
                "status": "RUNNING", "actor": "user:ann", "start_time": 1})  # fmt: skip
        if path == "/v1/submissions/unknown":
            return httpx.Response(404, json={"detail": "no spec for model 'unknown'"})
        if path.startswith("/v1/submissions/") and request.method == "POST":
            return httpx.Response(202, json=_status())
        if path == "/v1/submissions/run-1":
            state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
            reason = {"code": "submission_refused", "message": "pickle"}
            return httpx.Response(200, json=_status(state, reason if state == "failed" else None))
        return httpx.Response(200, json={})


def _fitted(model: Any) -> Any:
    frame = cancer().head(200)
    return model.fit(frame.drop(columns="target"), frame["target"])


def test_a_run_submits_a_lightgbm_model_as_its_native_text_model() -> None:
    lightgbm = pytest.importorskip("lightgbm")
    fake = FakeTraining()
    client = Client(token="t0k", urls=URLS, transport=httpx.MockTransport(fake))
    with client.start_run("churn") as run:
        found = run.submit_model(_fitted(lightgbm.LGBMClassifier(n_estimators=5)), model="churn")
    assert found.submission_id == "run-1"
    upload = next(r for r in fake.requests if r.url.path == "/v1/submissions/churn")
    assert upload.method == "POST"
    assert upload.url.params["run_id"] == RUN_ID
    assert upload.headers["authorization"] == "Bearer t0k"
    assert is_native_archive(upload.content)
    _, features = load_estimator(upload.content)  # the platform's safe loader reads it
    assert "mean_radius" in features


def test_a_scikit_learn_pipeline_is_uploaded_as_skops_without_a_run() -> None:
    fake = FakeTraining()
    client = Client(token="t", urls=URLS, transport=httpx.MockTransport(fake))
    model = _fitted(make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)))
    client.submit_model(model, model="churn")
    (upload,) = fake.requests
    assert "run_id" not in upload.url.params
    assert upload.content[:2] == b"PK"  # skops is a zip, not a pickle stream
    assert not is_native_archive(upload.content)
    assert load_estimator(upload.content)[1][0] == "mean_radius"


def test_a_file_is_sent_as_it_is_and_an_empty_one_not_at_all(tmp_path: Path) -> None:
    fake = FakeTraining()
    client = Client(token="t", urls=URLS, transport=httpx.MockTransport(fake))
    path = tmp_path / "model.skops"
    path.write_bytes(b"PK\x03\x04whatever")
    client.submit_model_file(path, model="churn", run_id=RUN_ID)
    assert fake.requests[0].content == b"PK\x03\x04whatever"
    empty = tmp_path / "empty.skops"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        client.submit_model_file(empty, model="churn")
    assert len(fake.requests) == 1
    with pytest.raises(ClientError) as refused:
        client.submit_model_file(path, model="unknown")
    assert refused.value.status == 404
    assert "no spec" in refused.value.detail


def test_waiting_returns_the_refusal_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("driftline.client.submitting.WAIT_INTERVAL_S", 0.0)
    fake = FakeTraining(ending="failed")
    client = Client(token="t", urls=URLS, transport=httpx.MockTransport(fake))
    done = client.wait_for_submission("run-1", timeout_s=5)
    assert done.status == "failed"
    assert done.failure is not None
    assert done.failure.code == "submission_refused"
    assert len(fake.requests) == 3


def test_waiting_gives_up_after_the_timeout() -> None:
    fake = FakeTraining(ending="running")
    client = Client(token="t", urls=URLS, transport=httpx.MockTransport(fake))
    with pytest.raises(SubmissionTimeoutError, match="still queued"):
        client.wait_for_submission("run-1", timeout_s=0)


async def test_the_async_client_submits_and_waits(tmp_path: Path) -> None:
    fake = FakeTraining()
    path = tmp_path / "model.skops"
    path.write_bytes(b"PK\x03\x04x")
    async with AsyncClient(token="t", urls=URLS, transport=httpx.MockTransport(fake)) as client:
        async with await client.start_run("churn") as run:
            model = _fitted(make_pipeline(StandardScaler(), LogisticRegression()))
            sent = await run.submit_model(model, model="churn")
        await client.submit_model_file(path, model="churn")
        done = await client.wait_for_submission(sent.submission_id, timeout_s=30)
    assert done.status == "succeeded"
    uploads = [r for r in fake.requests if r.url.path == "/v1/submissions/churn"]
    assert [r.url.params.get("run_id") for r in uploads] == [RUN_ID, None]


def test_the_cli_reports_a_service_that_does_not_answer(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from driftline.cli.main import app

    path = tmp_path / "model.skops"
    path.write_bytes(b"PK\x03\x04x")
    args = ["models", "submit", str(path), "--model", "churn", "--token", "t"]
    down = CliRunner().invoke(app, [*args, "--url", "http://127.0.0.1:9"])
    assert down.exit_code == 1
    assert "did not answer" in down.output
    missing = CliRunner().invoke(app, ["models", "submit", str(tmp_path / "nope"), "-m", "x"])
    assert missing.exit_code == 2
