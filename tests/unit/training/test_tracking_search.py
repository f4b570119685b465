"""The run search subset: AND-ed comparisons and one ordering, hostile filters refused."""

from __future__ import annotations

import pytest

from driftline.training.tracking.core import InvalidValueError
from driftline.training.tracking.models import MetricSummary, TrackedRun
from driftline.training.tracking.search import matches, ordered, parse_filter


def _run(run_id: str, alpha: str, accuracy: float | None, team: str = "fraud") -> TrackedRun:
    summary = MetricSummary(last=accuracy or 0, min=0, max=1, points=1, last_step=0)
    metrics = {"accuracy": summary} if accuracy is not None else {}
    return TrackedRun(
        run_id=run_id, experiment_id="1", experiment="e", name=f"run {run_id}",
        status="FINISHED", actor="user:a", start_time=int(run_id), params={"alpha": alpha},
        tags={"team": team}, metrics=metrics,
    )  # fmt: skip


RUNS = [_run("1", "0.1", 0.91), _run("2", "1.0", 0.85, "risk"), _run("3", "0.1", None)]


def _ids(filter_text: str) -> list[str]:
    clauses = parse_filter(filter_text)
    return [r.run_id for r in RUNS if matches(r, clauses)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["1", "2", "3"]),
        ("params.alpha = '0.1'", ["1", "3"]),
        ("params.alpha = '0.1' and metrics.accuracy > 0.9", ["1"]),
        ("metrics.accuracy >= 0.85 AND tags.team != 'fraud'", ["2"]),
        ("attributes.run_name = 'run 2'", ["2"]),
        ('tags.`team` = "risk"', ["2"]),
        ("metrics.accuracy < 0", []),
    ],
)
def test_filters_select_the_runs_mlflow_would(text: str, expected: list[str]) -> None:
    assert _ids(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "params.alpha LIKE '0.%'",
        "metrics.accuracy > '0.9'",
        "attributes.password = 'x'",
        "params.alpha = '0.1' OR params.alpha = '1.0'",
        "everything",
        "params.alpha = 0.1; drop table runs",
        "x" * 3000,
    ],
)
def test_filters_outside_the_subset_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(InvalidValueError):
        parse_filter(text)


def test_ordering_by_a_metric_puts_runs_without_it_last() -> None:
    assert [r.run_id for r in ordered(RUNS, ["metrics.accuracy DESC"])] == ["1", "2", "3"]
    assert [r.run_id for r in ordered(RUNS, ["metrics.accuracy"])] == ["2", "1", "3"]
    assert [r.run_id for r in ordered(RUNS, ["attributes.start_time DESC"])] == ["3", "2", "1"]


def test_unknown_orderings_are_refused() -> None:
    with pytest.raises(InvalidValueError):
        ordered(RUNS, ["attributes.secret"])
    with pytest.raises(InvalidValueError):
        ordered(RUNS, ["metrics.a", "metrics.b"])
