"""Tracking's pure decisions: names, values, artifact paths, curves and comparisons."""

from __future__ import annotations

import pytest

from driftline.training.records import RunRecord
from driftline.training.tracking import core
from driftline.training.tracking.core import InvalidValueError, NotFoundError
from driftline.training.tracking.mlflow_artifacts import children
from driftline.training.tracking.mlflow_shapes import metric_points, pairs, run_id_of
from driftline.training.tracking.models import MetricPoint, MetricSummary, TrackedRun
from driftline_contracts.values import DatasetRef


@pytest.mark.parametrize("key", ["alpha", "train/loss", "val acc", "mlflow.parentRunId", "a:b"])
def test_mlflow_style_names_are_accepted(key: str) -> None:
    assert core.check_key(key, "param") == key


@pytest.mark.parametrize("key", ["", "a" * 251, "../x", "/abs", "a/../b", "x\ny", "é", "a;b"])
def test_names_outside_the_alphabet_are_refused(key: str) -> None:
    with pytest.raises(InvalidValueError):
        core.check_key(key, "metric")


def test_param_values_are_text_and_bounded() -> None:
    assert core.param_text(0.1) == "0.1"
    assert core.param_text(True) == "true"
    assert core.param_text("l2") == "l2"
    with pytest.raises(InvalidValueError, match="6000"):
        core.param_text("x" * 6001)


def test_non_finite_metric_values_are_refused_and_timestamps_filled() -> None:
    stamped = core.check_points([MetricPoint(key="loss", value=0.5, step=2)], now_ms=1234)
    assert stamped[0].timestamp == 1234
    with pytest.raises(InvalidValueError, match="finite"):
        core.check_points([MetricPoint(key="loss", value=float("nan"))], now_ms=1)


@pytest.mark.parametrize(
    "path", ["", "a/../b", "..", "./x", "a//b", "/etc/passwd", "a\\b", "x\x00", "a/" * 600]
)
def test_artifact_paths_cannot_leave_the_run(path: str) -> None:
    with pytest.raises(InvalidValueError):
        core.artifact_key("1", "f" * 32, path)


def test_artifact_keys_live_under_the_run() -> None:
    assert core.artifact_key("3", "ab" * 16, "plots/roc.png") == (
        f"tracking/3/{'ab' * 16}/artifacts/plots/roc.png"
    )


@pytest.mark.parametrize("text", ["churn", "churn@", "churn@0", "churn@x", "@3", "a b@1", "x@1@2"])
def test_dataset_versions_must_read_name_at_version(text: str) -> None:
    with pytest.raises(InvalidValueError):
        core.parse_dataset(text)


def test_a_run_id_of_another_shape_is_simply_not_found() -> None:
    assert core.check_run_id("0" * 32) == "0" * 32
    with pytest.raises(NotFoundError):
        core.check_run_id("'; drop table runs; --")


def _tracked(run_id: str, **metrics: list[float]) -> TrackedRun:
    points = {
        k: MetricSummary(
            last=vs[-1], min=min(vs), max=max(vs), points=len(vs), last_step=len(vs) - 1
        )
        for k, vs in metrics.items()
    }
    return TrackedRun(
        run_id=run_id, experiment_id="1", experiment="e", name="n", status="FINISHED",
        actor="user:a", start_time=0, params={"alpha": "0.1"}, metrics=points,
    )  # fmt: skip


def _training(run_id: str) -> RunRecord:
    dataset = DatasetRef(name="d", version=1, uri="s3://b/d.csv", sha256="a" * 64, format="csv")
    return RunRecord(
        run_id=run_id, model="m", status="succeeded", trigger="spec", attempt=1, dataset=dataset,
        spec_hash="b" * 64, seed=7, params={"alpha": 1.0, "max_iter": 20},
        metrics={"accuracy": 0.8},
    )  # fmt: skip


def test_training_runs_and_tracked_runs_compare_side_by_side() -> None:
    compared = core.compare_runs(
        ["t", "r"], [_tracked("t", accuracy=[0.7, 0.9], loss=[1.0]), _training("r")]
    )
    assert compared.kinds == ["tracked", "training"]
    assert compared.params == {"alpha": ["0.1", "1.0"], "max_iter": [None, "20"]}
    accuracy = compared.metrics["accuracy"]
    assert (accuracy[0].last, accuracy[0].points) == (0.9, 2)
    assert (accuracy[1].last, accuracy[1].points) == (0.8, 1)
    assert compared.metrics["loss"][1] is None


def test_mlflow_key_value_lists_and_metrics_are_read_leniently_but_checked() -> None:
    assert pairs([{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]) == {"a": "2"}
    points = metric_points([{"key": "loss", "value": 0.5, "timestamp": "17", "step": "3"}])
    assert (points[0].step, points[0].timestamp) == (3, 17)
    with pytest.raises(InvalidValueError):
        pairs({"a": 1})
    with pytest.raises(InvalidValueError):
        metric_points([{"key": "loss", "value": "much"}])
    with pytest.raises(InvalidValueError):
        metric_points([{"key": "loss", "value": 1, "step": -1}])
    with pytest.raises(NotFoundError):
        run_id_of({"run_id": 5})


def test_artifact_listing_names_files_and_folders_relative_to_the_folder() -> None:
    files = [("notes.txt", 5), ("reports/notes.txt", 5), ("reports/deep/x.bin", 9)]
    assert children(files, "") == [
        {"path": "notes.txt", "is_dir": False, "file_size": 5},
        {"path": "reports", "is_dir": True},
    ]
    assert children(files, "reports") == [
        {"path": "deep", "is_dir": True},
        {"path": "notes.txt", "is_dir": False, "file_size": 5},
    ]


@pytest.mark.parametrize("status", ["RUNNING", "FINISHED", "FAILED", "KILLED", "SCHEDULED"])
def test_mlflow_run_statuses_are_accepted(status: str) -> None:
    assert core.check_status(status) == status


@pytest.mark.parametrize("status", ["", "finished", "DONE", "FINISHED; --", "x" * 100])
def test_other_statuses_are_refused_before_they_reach_the_database(status: str) -> None:
    with pytest.raises(InvalidValueError, match="unknown run status"):
        core.check_status(status)
