"""An unmodified ``mlflow`` client logs to Driftline's training service, and `driftline runs`
lists and compares what it logged (MLflow runs in its own venv, cached between sessions)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bench.mlflow_peer import MLFLOW
from driftline.runtime.service import ServiceRuntime
from driftline.stack.info import StackInfo
from driftline.stack.tokens import role_tokens
from driftline.training.app import definition
from driftline.training.settings import TrainingSettings
from tests.integration.cli_process import run_cli
from tests.integration.client_notebook import accept_dataset, notebook
from tests.integration.kafka_helpers import environment
from tests.integration.served_runtime import served

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCRIPT = Path(__file__).with_name("mlflow_notebook.py")
VENV = Path.home() / ".cache" / "driftline" / f"mlflow-venv-{MLFLOW.split('==')[1]}"
EXPERIMENT = f"notebook-{uuid.uuid4().hex[:8]}"


def mlflow_venv() -> Path:
    """The cached venv holding only the MLflow client (built on first use, ~2 minutes)."""
    python, marker = VENV / "bin" / "python", VENV / ".installed"
    if marker.exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", MLFLOW], capture_output=True, text=True
    )
    if pip.returncode != 0:
        # PyPI is reachable in CI, so there a failed install is a failure, not a reason to skip;
        # elsewhere (an offline laptop) the test skips with pip's reason.
        reason = f"cannot install {MLFLOW}: {pip.stderr.strip()[-300:]}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    marker.write_text(MLFLOW)
    return python


@pytest.fixture(scope="module")
async def training(local_stack: StackInfo) -> AsyncIterator[tuple[str, ServiceRuntime]]:
    """The training service's HTTP app served by uvicorn in this event loop, and its runtime."""
    with environment(local_stack.env()):
        settings = TrainingSettings()
    runtime = ServiceRuntime(definition(), settings)
    async with served(runtime) as url:
        yield url, runtime


@pytest.fixture(scope="module")
def training_url(training: tuple[str, ServiceRuntime]) -> str:
    """The training service's base URL."""
    return training[0]


async def _notebook(url: str, token: str) -> tuple[dict, float]:
    python = await asyncio.to_thread(mlflow_venv)
    env = {**os.environ, "MLFLOW_TRACKING_URI": url, "MLFLOW_TRACKING_TOKEN": token,
           "MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}  # fmt: skip
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        str(python), str(SCRIPT), EXPERIMENT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=300)
    assert proc.returncode == 0, err.decode()[-3000:]
    return json.loads(out.decode().strip().splitlines()[-1]), time.perf_counter() - started


def _cli(url: str, *args: str) -> str:
    result = run_cli(*args, "--url", url)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def test_unmodified_mlflow_client_logs_and_runs_commands_show_it(
    training_url: str, local_stack: StackInfo
) -> None:
    assert local_stack.auth_tokens_file is not None
    token = role_tokens(local_stack.auth_tokens_file)["publisher"]
    seen, took = await _notebook(training_url, token)
    print(f"mlflow notebook script: {took:.1f} s")
    parent, child, other = seen["parent"], seen["child"], seen["other"]
    assert seen["found"] == sorted([parent, child, other])
    assert seen["picked"] == [parent]
    assert seen["best"] == parent  # accuracy 0.91 > 0.90 > 0.85
    assert seen["child_parent_tag"] == parent
    assert seen["status"] == "FINISHED"
    assert seen["loss"] == [[0, 0.9], [1, 0.6], [2, 0.45], [3, 0.5]]
    assert seen["artifacts"] == ["notes.txt", "reports"]
    assert seen["downloaded"] == "trained from a notebook\n"
    assert seen["missing"] is True

    listed = json.loads(await asyncio.to_thread(_cli, training_url, "runs", "ls", "--json"))
    tracked = {r["run_id"]: r for r in listed["tracked"]}
    assert tracked[child]["parent_run_id"] == parent
    assert tracked[parent]["actor"] == "user:publisher"
    assert tracked[parent]["tags"]["team"] == "fraud"

    compared = json.loads(
        await asyncio.to_thread(_cli, training_url, "runs", "compare", parent, other, "--json")
    )
    assert compared["params"]["alpha"] == ["0.1", "1.0"]
    assert compared["metrics"]["loss"][0] == {
        "last": 0.5, "min": 0.45, "max": 0.9, "points": 4, "last_step": 3,
        "last_timestamp": compared["metrics"]["loss"][0]["last_timestamp"],
    }  # fmt: skip
    text = await asyncio.to_thread(_cli, training_url, "runs", "compare", parent, other)
    assert "0.5000 (min 0.4500, max 0.9000, 4 steps)" in text
    listing = await asyncio.to_thread(_cli, training_url, "runs", "ls", "--experiment", EXPERIMENT)
    assert "tracked runs" in listing
    assert "sgd-alpha-1.0" in listing
    shown = await asyncio.to_thread(_cli, training_url, "runs", "show", parent)
    assert "reports/notes.txt" in shown
    assert "user:publisher" in shown


async def test_a_viewer_token_cannot_log_through_the_mlflow_api(
    training_url: str, local_stack: StackInfo
) -> None:
    assert local_stack.auth_tokens_file is not None
    viewer = role_tokens(local_stack.auth_tokens_file)["viewer"]
    async with httpx.AsyncClient(base_url=training_url) as client:
        refused = await client.post(
            "/api/2.0/mlflow/experiments/create", json={"name": "x"},
            headers={"Authorization": f"Bearer {viewer}"},
        )  # fmt: skip
        anonymous = await client.post("/api/2.0/mlflow/experiments/create", json={"name": "x"})
    assert refused.status_code == 403
    assert anonymous.status_code == 401


async def test_the_client_logs_a_run_on_a_dataset_version_and_loads_the_accepted_frame(
    training: tuple[str, ServiceRuntime], local_stack: StackInfo, tmp_path: Path
) -> None:
    url, runtime = training
    assert local_stack.auth_tokens_file is not None
    tokens = role_tokens(local_stack.auth_tokens_file)
    dataset = await accept_dataset(runtime, f"notebook-data-{uuid.uuid4().hex[:6]}")
    seen = await asyncio.to_thread(notebook, url, tokens["publisher"], dataset, tmp_path)
    run, child, failed = seen["run"], seen["child"], seen["failed"]
    assert run.status == "FINISHED"
    assert run.dataset == dataset
    assert run.params == {"lr": "0.1", "depth": "3"}
    auc = run.metrics["auc"]
    assert (auc.last, auc.last_step, auc.min, auc.max, auc.points) == (0.86, 2, 0.5, 0.86, 5)
    assert [a.path for a in run.artifacts] == ["plots/curve.txt"]
    assert child.parent_run_id == run.run_id
    assert child.dataset == dataset
    assert failed.status == "FAILED"
    assert seen["frame"].to_dict("list") == {"age": [31, 45], "churned": [0, 1]}
    assert seen["artifact"] == b"auc by step"
    assert seen["refusals"] == {
        "unknown_dataset": 404, "param_changed": 422, "anonymous_rows": 401,
        "escape": 400, "other_experiment": 404,
    }  # fmt: skip


async def test_hostile_mlflow_requests_are_refused_in_mlflow_error_shape(
    training_url: str, local_stack: StackInfo
) -> None:
    assert local_stack.auth_tokens_file is not None
    token = role_tokens(local_stack.auth_tokens_file)["publisher"]
    api = f"{training_url}/api/2.0/mlflow"
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        made = await client.post(f"{api}/experiments/create", json={"name": f"{EXPERIMENT}-h"})
        run = await client.post(
            f"{api}/runs/create", json={"experiment_id": made.json()["experiment_id"]}
        )
        run_id = run.json()["run"]["info"]["run_id"]
        answers = {
            "status": await client.post(
                f"{api}/runs/update", json={"run_id": run_id, "status": "DONE; drop"}
            ),
            "too_many": await client.post(f"{api}/runs/log-batch", json={
                "run_id": run_id,
                "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": i}
                            for i in range(1001)],
            }),
            "filter": await client.post(f"{api}/runs/search", json={
                "experiment_ids": [made.json()["experiment_id"]],
                "filter": "params.a = '1' OR 1=1",
            }),
            "unknown_run": await client.get(f"{api}/runs/get", params={"run_id": "f" * 32}),
            "duplicate": await client.post(f"{api}/experiments/create",
                                           json={"name": f"{EXPERIMENT}-h"}),
            "location": await client.post(f"{api}/experiments/create",
                                          json={"name": "elsewhere",
                                                "artifact_location": "s3://theirs/x"}),
        }  # fmt: skip
    codes = {k: (r.status_code, r.json()["error_code"]) for k, r in answers.items()}
    assert codes == {
        "status": (400, "INVALID_PARAMETER_VALUE"),
        "too_many": (400, "INVALID_PARAMETER_VALUE"),
        "filter": (400, "INVALID_PARAMETER_VALUE"),
        "unknown_run": (404, "RESOURCE_DOES_NOT_EXIST"),
        "duplicate": (400, "RESOURCE_ALREADY_EXISTS"),
        "location": (400, "INVALID_PARAMETER_VALUE"),
    }
    assert "OR" in answers["filter"].json()["message"]
    odd_shapes = [
        ("runs/update", {"run_id": run_id, "status": 123}),
        ("runs/update", {"run_id": run_id, "run_name": ["x"]}),
        ("runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": 10**30}),
        ("runs/search", {"experiment_ids": ["1"], "filter": 5}),
        ("runs/search", {"experiment_ids": ["1"], "order_by": {"a": 1}}),
        ("runs/search", {"experiment_ids": [{"x": 1}]}),
        ("runs/search", {"experiment_ids": ["1"], "page_token": "abc"}),
        ("runs/log-batch", {"run_id": run_id, "metrics": "loss"}),
        ("runs/log-batch", {"run_id": run_id, "params": [1, 2]}),
        ("runs/log-metric", {"run_id": run_id, "key": "m", "value": "high"}),
        ("runs/log-parameter", {"run_id": run_id, "key": "", "value": "1"}),
        ("runs/create", {"experiment_id": "1", "tags": 5}),
        ("runs/create", {"experiment_id": "1", "start_time": 10**30}),
        ("experiments/create", {"name": "\x00bad"}),
    ]
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        statuses = [
            (path, (await client.post(f"{api}/{path}", json=body)).status_code)
            for path, body in odd_shapes
        ]
    assert [(p, s) for p, s in statuses if not 400 <= s < 500] == []
