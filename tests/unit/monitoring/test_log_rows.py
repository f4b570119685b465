"""Rows of the Kafka prediction log are buffered without their features (the Parquet object
keeps them) and a window evaluated from them is the window of the same rows sent inline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from driftline.deployment.models.predictor import Predicted
from driftline.deployment.prediction_log.columnar import encode_record
from driftline.deployment.prediction_log.compaction import compact
from driftline.deployment.serving.served_rows import ServedRows
from driftline.monitoring.log_rows import MissingLoggedRowsError, with_features
from driftline.monitoring.records import BufferedRow
from driftline.monitoring.workflow import log_predictions
from driftline_contracts.events.monitoring import PredictionsLogged
from driftline_contracts.modelspec import DriftPolicy
from tests.unit.monitoring.fakes import FakeRefs, FakeWindows, deps_for, monitored
from tests.unit.monitoring.helpers import population
from tests.unit.monitoring.test_workflow import batch

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
COUNT = DriftPolicy(window_size=100)


def served(frame: pd.DataFrame, tag: str) -> ServedRows:
    features = [{k: v for k, v in r.items() if k != "label"} for r in frame.to_dict("records")]
    n = len(features)
    return ServedRows(
        model="churn", canary_id=None, created_at=T0, request_ids=[f"{tag}-{i}" for i in range(n)],
        features=features, versions=[1] * n, variants=["champion"] * n,
        predicted=Predicted([int(v) for v in frame["label"]], [None] * n, [None] * n, [None] * n),
        latencies=[1.0] * n,
    )  # fmt: skip


async def logged(frame: pd.DataFrame, tag: str, deps: object) -> PredictionsLogged:
    (event,), _ = await compact(deps.store, 0, [0], [encode_record(served(frame, tag))])  # type: ignore[attr-defined]
    return event


async def test_a_window_from_the_log_objects_equals_the_window_of_inline_rows(
    tmp_path: Path,
) -> None:
    frame = population(100, seed=3, shift=15.0)
    found = []
    for how in ("inline", "log"):
        refs, store = FakeRefs(monitored(COUNT)), FakeWindows()
        deps = deps_for(population(2000), tmp_path / how)
        event = (
            batch(frame, T0, timedelta(microseconds=1), "r")
            if how == "inline"
            else await logged(frame, "r", deps)
        )
        emitted = await log_predictions(event, refs, store, deps)
        features_kept = [r.row.features is not None for r in store.rows]
        (window,) = store.records.values()
        found.append((window.rows, window.drifted, window.drift_share, [type(e) for e in emitted]))
        assert all(features_kept) == (how == "inline")  # the log's rows: no copy of features
    assert found[0] == found[1]
    assert found[0][2] > 0  # the shifted feature drifts, read from either place


async def test_rows_an_object_does_not_hold_are_an_error_not_a_silent_gap(tmp_path: Path) -> None:
    deps = deps_for(population(10), tmp_path)
    event = await logged(population(3, seed=1), "x", deps)
    assert event.batch is not None
    ghost = BufferedRow(1, 1, "not-logged", T0, None, 0, event.batch)
    with pytest.raises(MissingLoggedRowsError):
        await with_features([ghost], deps.store, 10**8)
