"""The client library against a fake transport: what it sends, what it returns, its errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from driftline.client import AsyncClient, Client, ClientError
from driftline.client.calls import parse_dataset

RUN_ID = "a" * 32
URLS = {"training": "http://training.test", "deployment": "http://serving.test"}


def _run(status: str = "RUNNING", parent: str | None = None) -> dict[str, Any]:
    return {
        "run_id": RUN_ID if parent is None else "b" * 32, "experiment_id": "1",
        "experiment": "churn", "name": "gbm", "status": status, "actor": "user:ann",
        "parent_run_id": parent, "dataset": "churn@3", "start_time": 1,
    }  # fmt: skip


class FakeServices:
    """Records every request and answers like the services would."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/v1/tracking/runs" and request.method == "POST":
            body = json.loads(request.content)
            return httpx.Response(201, json=_run(parent=body["parent_run_id"]))
        if path.endswith("/end"):
            return httpx.Response(200, json=_run(json.loads(request.content)["status"]))
        if path.endswith("/log"):
            return httpx.Response(204)
        if "/artifacts/" in path:
            entry = {"path": path.split("/artifacts/")[1], "uri": "s3://b/k", "sha256": "c" * 64,
                     "size_bytes": len(request.content)}  # fmt: skip
            return httpx.Response(200, json=entry)
        if path.endswith("/predict"):
            return httpx.Response(200, json={"model": "churn", "predictions": [
                {"request_id": "r1", "prediction": 1, "model_version": 2, "variant": "champion"}
            ]})  # fmt: skip
        return httpx.Response(404, json={"detail": f"nothing at {path}"})

    def bodies(self, suffix: str) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if r.url.path.endswith(suffix)]


@pytest.fixture
def services() -> FakeServices:
    return FakeServices()


def _client(services: FakeServices) -> Client:
    return Client(token="t0k", urls=URLS, transport=httpx.MockTransport(services))


def test_a_run_logs_params_curves_tags_artifacts_and_a_nested_run(
    services: FakeServices, tmp_path: Path
) -> None:
    plot = tmp_path / "roc.txt"
    plot.write_bytes(b"0.1,0.9")
    with _client(services) as client, client.start_run("churn", dataset="churn@3") as run:
        run.log_params({"lr": 0.1})
        for step, auc in enumerate([0.7, 0.8]):
            run.log_metrics({"auc": auc}, step=step)
        run.set_tags({"stage": "tuning"})
        entry = run.log_artifact(plot, name="plots/roc.txt")
        with run.start_run("fold-1") as child:
            assert child.record.parent_run_id == RUN_ID
    started = services.bodies("/v1/tracking/runs")
    assert started[0] == {"experiment": "churn", "name": None, "dataset": "churn@3",
                          "parent_run_id": None, "tags": {}}  # fmt: skip
    assert started[1]["parent_run_id"] == RUN_ID
    assert started[1]["dataset"] == "churn@3"
    logged = services.bodies("/log")
    assert logged[0]["params"] == {"lr": 0.1}
    assert [p["metrics"][0]["step"] for p in logged[1:3]] == [0, 1]
    assert logged[3]["tags"] == {"stage": "tuning"}
    assert entry.size_bytes == 7
    assert [b["status"] for b in services.bodies("/end")] == ["FINISHED", "FINISHED"]
    assert all(r.headers["authorization"] == "Bearer t0k" for r in services.requests)
    assert str(services.requests[0].url).startswith("http://training.test/v1/tracking/runs")


def test_a_cell_that_raises_ends_the_run_failed_and_the_error_propagates(
    services: FakeServices,
) -> None:
    client = _client(services)
    with pytest.raises(ZeroDivisionError), client.start_run("churn"):
        _ = 1 / 0
    assert services.bodies("/end") == [{"status": "FAILED"}]


def test_a_refusal_is_a_client_error_with_the_status_and_the_reason(services: FakeServices) -> None:
    with pytest.raises(ClientError, match="nothing at /v1/tracking/runs/zzz") as caught:
        _client(services).tracked_run("zzz")
    assert caught.value.status == 404


def test_a_service_that_does_not_answer_is_status_zero() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = Client(token="t", urls=URLS, transport=httpx.MockTransport(down))
    with pytest.raises(ClientError) as caught:
        client.experiments()
    assert caught.value.status == 0


def test_predictions_are_typed_and_path_segments_are_escaped(services: FakeServices) -> None:
    answer = _client(services).predict("churn", [{"age": 3}])
    assert answer.predictions[0].request_id == "r1"
    with pytest.raises(ClientError):
        _client(services).tracked_run("../../v1/runs")
    assert services.requests[-1].url.raw_path.startswith(b"/v1/tracking/runs/..%2F..%2F")


@pytest.mark.parametrize("text", ["churn", "churn@0", "churn@x", "@3"])
def test_a_dataset_version_is_checked_before_anything_is_sent(text: str) -> None:
    with pytest.raises(ValueError, match="name@version"):
        parse_dataset(text)


def test_without_a_token_the_local_stack_token_of_the_needed_role_is_sent(
    services: FakeServices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DRIFTLINE_TOKEN", raising=False)
    (tmp_path / "auth-tokens").write_text(
        "pub-tok user:publisher publisher\nview-tok user:v viewer\n"
    )
    client = Client(urls=URLS, home=tmp_path, transport=httpx.MockTransport(services))
    client.start_run("churn")
    with pytest.raises(ClientError):
        client.tracked_run("zzz")
    assert [r.headers.get("authorization") for r in services.requests] == [
        "Bearer pub-tok", "Bearer view-tok",
    ]  # fmt: skip


async def test_the_async_client_sends_the_same_requests(services: FakeServices) -> None:
    client = AsyncClient(token="t0k", urls=URLS, transport=httpx.MockTransport(services))
    async with client, await client.start_run("churn", dataset="churn@3") as run:
        await run.log_metrics({"auc": 0.9}, step=4)
    assert services.bodies("/log")[0]["metrics"][0] == {
        "key": "auc", "value": 0.9, "step": 4, "timestamp": None,
    }  # fmt: skip
    assert services.bodies("/end") == [{"status": "FINISHED"}]


async def test_the_async_run_logs_one_metric_like_the_sync_run(services: FakeServices) -> None:
    client = AsyncClient(token="t0k", urls=URLS, transport=httpx.MockTransport(services))
    async with client, await client.start_run("churn") as run:
        await run.log_metric("loss", 0.25, step=3)
    assert services.bodies("/log") == [{
        "params": {}, "tags": {},
        "metrics": [{"key": "loss", "value": 0.25, "step": 3, "timestamp": None}],
    }]  # fmt: skip
