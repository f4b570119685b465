"""The JSON drift report carries the distributions its HTML draws (the console plots them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from driftline.monitoring.evaluation import Tolerances, evaluate_window
from driftline.monitoring.reports import build_report, distributions
from driftline_contracts.modelspec import DriftPolicy
from driftline_contracts.values import TimeWindow
from tests.unit.monitoring.helpers import population, reference_of, window_of


def test_json_report_lists_reference_and_current_shares_per_feature() -> None:
    reference = reference_of(population(2000, seed=0))
    window = window_of(population(300, seed=1, shift=12.0))
    result = evaluate_window(reference, window, DriftPolicy(window_size=300), Tolerances())
    span = TimeWindow(start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2025, 1, 2, tzinfo=UTC))
    report = build_report(
        model="churn", version=2, window_id="w000007", window=span, rows=300,
        policy=DriftPolicy(window_size=300), reference=None, result=result,
        distributions=distributions(reference, window, result),
    )  # fmt: skip
    plotted = json.loads(json.dumps(report))["distributions"]
    tested = [f["feature"] for f in report["result"]["features"]] + ["prediction"]
    assert [d["feature"] for d in plotted] == tested
    for dist in plotted:
        assert len(dist["labels"]) == len(dist["reference"]) == len(dist["current"]) >= 2
        assert abs(sum(dist["current"]) - 1.0) < 1e-9
    age = next(d for d in plotted if d["feature"] == "age")
    assert age["reference"] != age["current"]  # the shifted feature's shares moved


def test_a_report_built_without_distributions_says_so_with_an_empty_list() -> None:
    reference = reference_of(population(500, seed=0))
    window = window_of(population(100, seed=1))
    result = evaluate_window(reference, window, DriftPolicy(window_size=100), Tolerances())
    span = TimeWindow(start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2025, 1, 2, tzinfo=UTC))
    report = build_report(
        model="churn", version=2, window_id="w1", window=span, rows=100,
        policy=DriftPolicy(window_size=100), reference=None, result=result,
    )  # fmt: skip
    assert report["distributions"] == []
