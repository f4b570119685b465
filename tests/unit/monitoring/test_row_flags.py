"""Serving flags counted per window: in the window's JSON and HTML report and on /metrics."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from prometheus_client import CollectorRegistry

from driftline.monitoring.records import BufferedRow
from driftline.monitoring.row_flags import (
    count_flags,
    flagged_rows_counter,
    window_rows_counter,
)
from driftline.monitoring.workflow import log_predictions
from driftline_contracts.events.monitoring import PredictionRow, PredictionsLogged, RowFlag
from driftline_contracts.modelspec import DriftPolicy
from driftline_contracts.values import ModelRef, TimeWindow
from tests.unit.monitoring.fakes import FakeRefs, FakeWindows, deps_for, monitored
from tests.unit.monitoring.helpers import population

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
UNSEEN = {"feature": "plan", "code": "unseen_category"}


def buffered(i: int, plan: str, flags: list[dict[str, str]] | None) -> BufferedRow:
    return BufferedRow(i, 1, f"r{i}", T0, {"plan": plan, "age": 1.0}, 0, None, flags)


def test_each_row_counts_once_per_feature_and_kind_with_its_most_frequent_values() -> None:
    rows = [
        buffered(1, "basic", None),
        buffered(2, "gold", [UNSEEN]),
        buffered(3, "gold", [UNSEEN, UNSEEN]),  # the same flag twice: one row
        buffered(4, "Gold", [UNSEEN, {"feature": "age", "code": "null"}]),
        buffered(5, "basic", []),
    ]
    flags = count_flags(rows)
    assert (flags.rows, flags.flagged_rows) == (5, 3)
    [plan, age] = flags.counts
    assert (plan.feature, plan.code, plan.rows, plan.share) == ("plan", "unseen_category", 3, 0.6)
    assert plan.examples == {"gold": 2, "Gold": 1}
    assert (age.feature, age.code, age.rows, age.examples) == ("age", "null", 1, {"1.0": 1})
    assert flags.lines()[0] == "unseen category in `plan`: 3 of 5 rows ('gold' x2, 'Gold' x1)"


def test_a_window_without_flags_counts_none() -> None:
    flags = count_flags([buffered(1, "basic", None)])
    assert (flags.rows, flags.flagged_rows, flags.counts, flags.lines()) == (1, 0, [], [])


def batch(frame: pd.DataFrame, flagged: set[int]) -> PredictionsLogged:
    """Champion predictions of ``frame``; rows in ``flagged`` served with an unseen plan."""
    second = timedelta(seconds=1)
    rows = [
        PredictionRow(
            request_id=f"r{i}", time=T0 + i * second, variant="champion",
            features={k: ("platinum" if i in flagged and k == "plan" else v)
                      for k, v in record.items() if k != "label"},
            prediction=int(record["label"]), latency_ms=1.0,
            flags=[RowFlag(feature="plan", code="unseen_category")] if i in flagged else None,
        )
        for i, record in enumerate(frame.to_dict("records"))
    ]  # fmt: skip
    span = TimeWindow(start=rows[0].time, end=rows[-1].time + second)
    return PredictionsLogged(model=ModelRef(name="churn", version=1), batch_id="b", window=span,
                             count=len(rows), rows=rows)  # fmt: skip


async def test_a_window_counts_its_flagged_rows_in_the_report_and_on_metrics(
    tmp_path: Path,
) -> None:
    refs, store = FakeRefs(monitored(DriftPolicy(window_size=500))), FakeWindows()
    deps = deps_for(population(2000), tmp_path)
    registry = CollectorRegistry()
    deps.flagged, deps.evaluated = flagged_rows_counter(registry), window_rows_counter(registry)
    await log_predictions(batch(population(500, seed=1), set(range(0, 120, 10))), refs, store, deps)
    [window] = store.records.values()
    report = json.loads(await deps.store.get_bytes(window.report.uri))
    assert report["row_flags"]["rows"] == 500
    assert report["row_flags"]["flagged_rows"] == 12
    [count] = report["row_flags"]["counts"]
    assert (count["feature"], count["code"], count["rows"]) == ("plan", "unseen_category", 12)
    assert count["examples"] == {"platinum": 12}
    html = (await deps.store.get_bytes(window.report_html.uri)).decode()
    assert "unseen category in `plan`: 12 of 500 rows (&#x27;platinum&#x27; x12)" in html
    labels = {"model": "churn", "version": "1", "feature": "plan", "code": "unseen_category"}
    assert registry.get_sample_value("driftline_monitoring_flagged_rows_total", labels) == 12
    rows = {"model": "churn", "version": "1"}
    assert registry.get_sample_value("driftline_monitoring_window_rows_total", rows) == 500


async def test_a_window_without_flagged_rows_says_none(tmp_path: Path) -> None:
    refs, store = FakeRefs(monitored(DriftPolicy(window_size=200))), FakeWindows()
    deps = deps_for(population(2000), tmp_path)
    await log_predictions(batch(population(200, seed=2), set()), refs, store, deps)
    [window] = store.records.values()
    report = json.loads(await deps.store.get_bytes(window.report.uri))
    assert report["row_flags"] == {"rows": 200, "flagged_rows": 0, "counts": []}
    html = (await deps.store.get_bytes(window.report_html.uri)).decode()
    assert "Rows flagged at serving: none of 200." in html
