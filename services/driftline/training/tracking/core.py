"""Tracking's decisions, without I/O: names, values, curves, artifact paths, comparisons."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any, get_args

from driftline.training.tracking.models import (
    ComparedRuns,
    MetricPoint,
    MetricSummary,
    ParamValue,
    RunStatus,
    TrackedRun,
)

KEY = re.compile(r"^[A-Za-z0-9_\-. /:]{1,250}$")
DATASET = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.\-]{0,127})@(?P<version>[1-9][0-9]{0,8})$")
RUN_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_PARAM_CHARS = 6000
MAX_TAG_CHARS = 8000
PARENT_TAG = "mlflow.parentRunId"
RUN_STATUSES = frozenset(get_args(RunStatus))


class TrackingError(Exception):
    """A tracking request that cannot be done: ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class NotFoundError(TrackingError):
    """No such experiment, run or artifact."""

    def __init__(self, message: str) -> None:
        super().__init__("not_found", message)


class AlreadyExistsError(TrackingError):
    """An experiment of that name exists."""

    def __init__(self, message: str) -> None:
        super().__init__("already_exists", message)


class InvalidValueError(TrackingError):
    """A name, value or path the platform refuses."""

    def __init__(self, message: str) -> None:
        super().__init__("invalid", message)


def check_key(key: str, kind: str) -> str:
    """``key`` when it is a valid param/metric/tag name; else ``InvalidValueError``."""
    if not KEY.fullmatch(key) or ".." in key.split("/") or key.startswith("/"):
        raise InvalidValueError(
            f"invalid {kind} name {key[:80]!r}: letters, digits, _ - . space / : only, "
            "at most 250 characters"
        )
    return key


def param_text(value: ParamValue) -> str:
    """A param value as text (MLflow stores params as strings), within 6000 characters."""
    text = value if isinstance(value, str) else json.dumps(value)
    if len(text) > MAX_PARAM_CHARS:
        raise InvalidValueError(f"param value longer than {MAX_PARAM_CHARS} characters")
    return text


def check_tags(tags: dict[str, str]) -> dict[str, str]:
    """``tags`` when every name and value is acceptable."""
    for key, value in tags.items():
        check_key(key, "tag")
        if len(value) > MAX_TAG_CHARS:
            raise InvalidValueError(f"tag {key!r} longer than {MAX_TAG_CHARS} characters")
    return tags


def check_points(points: Iterable[MetricPoint], now_ms: int) -> list[MetricPoint]:
    """The points with names checked, values finite and a timestamp on each."""
    checked = []
    for point in points:
        check_key(point.key, "metric")
        if not math.isfinite(point.value):
            raise InvalidValueError(f"metric {point.key!r}: value must be a finite number")
        stamped = point.timestamp if point.timestamp is not None else now_ms
        checked.append(point.model_copy(update={"timestamp": stamped}))
    return checked


def check_status(status: str) -> str:
    """``status`` when it is one of MLflow's run statuses."""
    if status not in RUN_STATUSES:
        raise InvalidValueError(
            f"unknown run status {status[:40]!r}; one of {', '.join(sorted(RUN_STATUSES))}"
        )
    return status


def check_run_id(run_id: str) -> str:
    """``run_id`` when it has the shape of a tracked run id (32 hex digits)."""
    if not RUN_ID.fullmatch(run_id):
        raise NotFoundError(f"run {run_id[:80]!r} not found")
    return run_id


def parse_dataset(text: str) -> tuple[str, int]:
    """``name@version`` → (name, version)."""
    found = DATASET.fullmatch(text)
    if found is None:
        raise InvalidValueError(f"dataset must read name@version (e.g. churn@3), not {text[:80]!r}")
    return found["name"], int(found["version"])


def artifact_path(path: str) -> str:
    """A relative artifact path with no way out of the run's folder."""
    parts = path.split("/")
    bad = not path or len(path) > 1024 or "\\" in path or "\x00" in path
    if bad or any(p in ("", ".", "..") for p in parts):
        raise InvalidValueError(f"invalid artifact path {path[:80]!r}")
    return path


def artifact_key(experiment_id: str, run_id: str, path: str) -> str:
    """Where a run's artifact lives in the object store."""
    return f"tracking/{experiment_id}/{run_id}/artifacts/{artifact_path(path)}"


def _training_column(run: Any) -> tuple[dict[str, MetricSummary], dict[str, str]]:
    metrics = {
        k: MetricSummary(last=v, min=v, max=v, points=1, last_step=0)
        for k, v in run.metrics.items()
    }
    params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in run.params.items()}
    return metrics, params


def compare_runs(ids: Sequence[str], found: Sequence[Any]) -> ComparedRuns:
    """Runs of either kind (``TrackedRun`` or training's ``RunRecord``) aligned by name."""
    columns = [
        (r.metrics, r.params) if isinstance(r, TrackedRun) else _training_column(r) for r in found
    ]
    metric_names = sorted({k for m, _ in columns for k in m})
    param_names = sorted({k for _, p in columns for k in p})
    return ComparedRuns(
        runs=list(ids),
        kinds=["tracked" if isinstance(r, TrackedRun) else "training" for r in found],
        metrics={n: [m.get(n) for m, _ in columns] for n in metric_names},
        params={n: [p.get(n) for _, p in columns] for n in param_names},
    )
