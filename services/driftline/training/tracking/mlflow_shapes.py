"""Tracking records in MLflow's JSON shapes, and MLflow's request fields read leniently."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from driftline.training.tracking.core import InvalidValueError, NotFoundError
from driftline.training.tracking.models import Experiment, MetricPoint, TrackedRun

Json = dict[str, Any]


def _ms(experiment: Experiment) -> int:
    return int(experiment.created_at.timestamp() * 1000) if experiment.created_at else 0


def experiment_json(experiment: Experiment) -> Json:
    """An MLflow ``Experiment``."""
    return {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": "active",
        "creation_time": _ms(experiment),
        "last_update_time": _ms(experiment),
        "tags": [{"key": k, "value": v} for k, v in experiment.tags.items()],
    }


def run_info_json(run: TrackedRun, experiment: Experiment) -> Json:
    """An MLflow ``RunInfo``; artifacts go through the mlflow-artifacts proxy."""
    info: Json = {
        "run_id": run.run_id,
        "run_uuid": run.run_id,
        "run_name": run.name,
        "experiment_id": run.experiment_id,
        "user_id": run.actor,
        "status": run.status,
        "start_time": run.start_time,
        "artifact_uri": f"{experiment.artifact_location}/{run.run_id}/artifacts",
        "lifecycle_stage": "active",
    }
    if run.end_time is not None:
        info["end_time"] = run.end_time
    return info


def run_json(run: TrackedRun, experiment: Experiment) -> Json:
    """An MLflow ``Run``: info, and data with each metric's latest value."""
    metrics = [
        {"key": k, "value": m.last, "timestamp": m.last_timestamp, "step": m.last_step}
        for k, m in run.metrics.items()
    ]
    return {
        "info": run_info_json(run, experiment),
        "data": {
            "metrics": metrics,
            "params": [{"key": k, "value": v} for k, v in run.params.items()],
            "tags": [{"key": k, "value": v} for k, v in run.tags.items()],
        },
        "inputs": {},
    }


def pairs(items: Any) -> dict[str, str]:
    """MLflow's ``[{key, value}]`` list as a dict (the last value of a repeated key wins)."""
    if items is None:
        return {}
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InvalidValueError("expected a list of {key, value} objects")
    return {str(i.get("key", "")): str(i.get("value", "")) for i in items}


def metric_points(items: list[Any]) -> list[MetricPoint]:
    """MLflow metric objects as points (timestamp and step as numbers or digit strings)."""
    if not isinstance(items, list):
        raise InvalidValueError("metrics must be a list")
    try:
        return [
            MetricPoint(
                key=str(i.get("key", "")),
                value=i.get("value"),
                step=int(i.get("step") or 0),
                timestamp=int(i["timestamp"]) if i.get("timestamp") not in (None, "") else None,
            )
            for i in items
        ]
    except (ValidationError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidValueError(f"invalid metric: {str(exc).splitlines()[0][:200]}") from exc


def run_id_of(body: Json) -> str:
    """The run a request names (``run_id``, or the older ``run_uuid``)."""
    run_id = body.get("run_id") or body.get("run_uuid")
    if not isinstance(run_id, str) or not run_id:
        raise NotFoundError("the request names no run (run_id)")
    return run_id
