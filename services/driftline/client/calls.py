"""Every request the client makes, built once for the sync and the async client alike."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from driftline.training.tracking.models import EndStatus, MetricPoint, NewRun, ParamValue, RunLog

Json = Any


@dataclass(frozen=True)
class Call:
    """One HTTP request: which service, method, path, query, body; the role it needs."""

    service: str
    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Json = None
    content: bytes | None = None
    role: str = "viewer"
    raw: bool = False
    """True when the answer is bytes (a file), not JSON."""


def _seg(value: str | int) -> str:
    return quote(str(value), safe="")


def parse_dataset(text: str) -> tuple[str, int]:
    """``name@3`` → ("name", 3); ValueError otherwise."""
    name, at, version = text.partition("@")
    if not name or not at or not version.isdigit() or int(version) < 1:
        raise ValueError(f"a dataset version reads name@version (e.g. churn@3), not {text!r}")
    return name, int(version)


def start_run(
    experiment: str, *, name: str | None = None, dataset: str | None = None,
    parent_run_id: str | None = None, tags: dict[str, str] | None = None,
) -> Call:  # fmt: skip
    """Start a tracked run (the experiment is created when missing)."""
    if dataset is not None:
        parse_dataset(dataset)
    body = NewRun(experiment=experiment, name=name, dataset=dataset,
                  parent_run_id=parent_run_id, tags=tags or {})  # fmt: skip
    return Call("training", "POST", "/v1/tracking/runs", json=body.model_dump(), role="publisher")


def log(
    run_id: str, *, params: dict[str, ParamValue] | None = None,
    metrics: dict[str, float] | None = None, step: int = 0, tags: dict[str, str] | None = None,
) -> Call:  # fmt: skip
    """Log params, metric values at one step and tags."""
    points = [MetricPoint(key=k, value=v, step=step) for k, v in (metrics or {}).items()]
    batch = RunLog(params=params or {}, metrics=points, tags=tags or {})
    path = f"/v1/tracking/runs/{_seg(run_id)}/log"
    return Call("training", "POST", path, json=batch.model_dump(mode="json"), role="publisher")


def end_run(run_id: str, status: EndStatus) -> Call:
    """End a run."""
    path = f"/v1/tracking/runs/{_seg(run_id)}/end"
    return Call("training", "POST", path, json={"status": status}, role="publisher")


def log_artifact(run_id: str, path: Path, name: str | None = None) -> Call:
    """Upload a file under the run's artifacts (``name`` defaults to the file's name)."""
    target = "/".join(_seg(p) for p in (name or path.name).split("/"))
    url = f"/v1/tracking/runs/{_seg(run_id)}/artifacts/{target}"
    return Call("training", "PUT", url, content=path.read_bytes(), role="publisher")


def tracked_run(run_id: str) -> Call:
    """One tracked run."""
    return Call("training", "GET", f"/v1/tracking/runs/{_seg(run_id)}")


def tracked_runs(experiment: str | None = None, limit: int = 100) -> Call:
    """Tracked runs, newest first."""
    params: dict[str, Any] = {"limit": limit}
    if experiment:
        params["experiment"] = experiment
    return Call("training", "GET", "/v1/tracking/runs", params=params)


def metric_history(run_id: str, key: str) -> Call:
    """Every point of a metric of a tracked run."""
    return Call("training", "GET", f"/v1/tracking/runs/{_seg(run_id)}/metrics/{_seg(key)}")


def experiments() -> Call:
    """Every experiment."""
    return Call("training", "GET", "/v1/tracking/experiments")


def training_runs(model: str | None = None, limit: int = 100) -> Call:
    """The training service's own runs, newest first."""
    params: dict[str, Any] = {"limit": limit} | ({"model": model} if model else {})
    return Call("training", "GET", "/v1/runs", params=params)


def training_run(run_id: str) -> Call:
    """One of the training service's own runs."""
    return Call("training", "GET", f"/v1/runs/{_seg(run_id)}")


def compare(run_ids: list[str]) -> Call:
    """Runs of either kind side by side."""
    return Call("training", "GET", "/v1/tracking/compare", params={"ids": ",".join(run_ids)})


def dataset(text: str) -> Call:
    """The canonical accepted Parquet copy of ``name@version``."""
    name, version = parse_dataset(text)
    path = f"/v1/tracking/datasets/{_seg(name)}/versions/{version}/canonical.parquet"
    return Call("training", "GET", path, role="viewer", raw=True)


def models() -> Call:
    """Registered models."""
    return Call("registry", "GET", "/v1/models")


def model(name: str) -> Call:
    """One model."""
    return Call("registry", "GET", f"/v1/models/{_seg(name)}")


def versions(name: str) -> Call:
    """A model's versions, oldest first."""
    return Call("registry", "GET", f"/v1/models/{_seg(name)}/versions")


def version(name: str, number: int) -> Call:
    """One version: lineage, metrics, gates."""
    return Call("registry", "GET", f"/v1/models/{_seg(name)}/versions/{int(number)}")


def predict(name: str, rows: list[dict[str, Any]], routing_key: str | None = None) -> Call:
    """Score rows with the model's serving versions."""
    body: dict[str, Any] = {"instances": rows} | (
        {"routing_key": routing_key} if routing_key else {}
    )
    return Call("deployment", "POST", f"/v1/models/{_seg(name)}/predict", json=body)


def feedback(name: str, labels: dict[str, Any]) -> Call:
    """True labels by request id."""
    path = f"/v1/models/{_seg(name)}/feedback"
    return Call("deployment", "POST", path, json={"labels": labels}, role="publisher")


def drift_report(name: str) -> Call:
    """The model's latest drift report."""
    return Call("monitoring", "GET", f"/v1/models/{_seg(name)}/drift")


def submit_model(model: str, content: bytes, run_id: str | None = None) -> Call:
    """Submit a model file trained elsewhere as a candidate of ``model`` (from a tracked run)."""
    params = {"run_id": run_id} if run_id else None
    path = f"/v1/submissions/{_seg(model)}"
    return Call("training", "POST", path, params=params, content=content, role="publisher")


def submission(submission_id: str) -> Call:
    """Where a submission stands."""
    return Call("training", "GET", f"/v1/submissions/{_seg(submission_id)}")
