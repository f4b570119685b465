"""A notebook using ``driftline.client`` against a training service, and the accepted
dataset version it reads (set up the way validation and training would leave it)."""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from driftline.client import Client, ClientError, calls
from driftline.client.calls import Call
from driftline.runtime.service import ServiceRuntime
from driftline.training.adapters.postgres import PostgresTrainingRepository
from driftline_contracts.events.data import CanonicalCopy, SourceDialect
from driftline_contracts.values import ArtifactRef, DatasetRef


async def accept_dataset(runtime: ServiceRuntime, name: str) -> str:
    """Version 1 of ``name``, recorded as accepted with a canonical Parquet copy; ``name@1``."""
    upload = b"age;churned\n31;0\n45;1\n"
    source = hashlib.sha256(upload).hexdigest()
    buffer = io.BytesIO()
    pd.DataFrame({"age": [31, 45], "churned": [0, 1]}).to_parquet(buffer, index=False)
    stored = await runtime.store.put_bytes(
        CanonicalCopy.key(name, source, "parquet"), buffer.getvalue()
    )
    copy = CanonicalCopy(
        data=ArtifactRef(
            uri=stored.uri,
            sha256=stored.sha256,
            size_bytes=stored.size_bytes,
            media_type="application/vnd.apache.parquet",
        ),
        source_sha256=source,
        parsed_as=SourceDialect(format="csv", delimiter=";", encoding="utf-8"),
    )
    await runtime.store.put_bytes(
        CanonicalCopy.key(name, source, "json"), copy.model_dump_json().encode()
    )
    raw = await runtime.store.put_bytes(f"datasets/{name}/upload.csv", upload)
    ref = DatasetRef(name=name, version=1, uri=raw.uri, sha256=source, format="csv", rows=2)
    async with runtime.units() as uow:
        await PostgresTrainingRepository(uow.session).record_version(ref, uuid.uuid4().hex)
    return f"{name}@1"


def _status(call: Any) -> int:
    try:
        call()
    except ClientError as exc:
        return exc.status
    return 200


def notebook(url: str, token: str, dataset: str, folder: Path) -> dict[str, Any]:
    """Log a run with a curve, a tag, an artifact and a nested run; read the data back."""
    curve = folder / "curve.txt"
    curve.write_bytes(b"auc by step")
    experiment = f"client-{uuid.uuid4().hex[:8]}"
    with Client(token=token, urls={"training": url}) as client:
        with client.start_run(experiment, dataset=dataset, name="gbm") as run:
            run.log_params({"lr": 0.1, "depth": 3})
            for step, auc in enumerate([0.7, 0.8, 0.85]):
                run.log_metrics({"auc": auc}, step=step)
            run.log_metrics({"auc": 0.86}, step=2)  # step 2 again: the later value is last
            run.log_metrics({"auc": 0.5}, step=1)  # an earlier step logged late is not last
            run.set_tags({"stage": "tuning"})
            run.log_artifact(curve, name="plots/curve.txt")
            with run.start_run("fold-1") as child:
                child.log_metrics({"auc": 0.84})
        try:
            with client.start_run(experiment, name="crashes") as doomed:
                raise RuntimeError("the notebook cell failed")
        except RuntimeError:
            pass
        refusals = _refusals(client, url, run.run_id, dataset)
        return {
            "run": client.tracked_run(run.run_id),
            "child": client.tracked_run(child.run_id),
            "failed": client.tracked_run(doomed.run_id),
            "frame": client.load_dataset(dataset),
            "artifact": client.send(_artifact_call(run.run_id)),
            "refusals": refusals,
        }


def _artifact_call(run_id: str) -> Any:
    from driftline.client.calls import Call

    return Call(
        "training", "GET", f"/v1/tracking/runs/{run_id}/artifacts/plots/curve.txt", raw=True
    )


def _refusals(client: Client, url: str, run_id: str, dataset: str) -> dict[str, int]:
    name = dataset.partition("@")[0]
    anonymous = httpx.get(f"{url}/v1/tracking/datasets/{name}/versions/1/canonical.parquet")
    run = client.tracked_run(run_id)
    proxy = f"{url}/api/2.0/mlflow-artifacts/artifacts"
    headers = client._where.headers("publisher")
    escape = httpx.put(f"{proxy}/{run.experiment_id}/{run_id}/artifacts/a/%2E%2E/%2E%2E/x",
                       content=b"x", headers=headers)  # fmt: skip
    elsewhere = httpx.put(f"{proxy}/999999/{run_id}/artifacts/x", content=b"x", headers=headers)
    return {
        "unknown_dataset": _status(lambda: client.start_run("x", dataset=f"{name}@7")),
        "param_changed": _status(lambda: client.send(_param(run_id, 0.2))),
        "anonymous_rows": anonymous.status_code,
        "escape": escape.status_code,
        "other_experiment": elsewhere.status_code,
    }


def _param(run_id: str, value: float) -> Call:
    return calls.log(run_id, params={"lr": value})
