"""KPIs from a hand-built audit log whose timings give known lead times, rates, MTTD and MTTR."""

from __future__ import annotations

import numpy as np
import pytest

from driftline.audit.kpis import compute_kpis, percentile
from driftline.audit.queries import load_kpis
from driftline_contracts.events import (
    CanaryRolledBack,
    CanaryStarted,
    DataArrived,
    DriftDetected,
    DriftResolved,
    ModelPromoted,
    PredictionsLogged,
)
from driftline_contracts.examples import DATASET
from tests.unit.audit.builders import FakeReader, Log, at, ref, window

HOUR = 3600.0
CHURN = "churn-clf"


def _history() -> Log:
    """Two models over four days: churn has 3 canaries (1 rolled back), a drift and a fix."""
    log = Log()
    churn = {"model": ref(CHURN, 2)}
    log.add(DataArrived, 0, run="r1")
    log.add(CanaryStarted, 2, run="r1", **churn)
    log.add(ModelPromoted, 3, run="r1", **churn)  # lead time 3 h
    log.add(DataArrived, 24, run="r2")
    log.add(CanaryStarted, 25, run="r2", model=ref(CHURN, 3))
    log.add(CanaryRolledBack, 26, run="r2", model=ref(CHURN, 3))
    log.add(DataArrived, 48, run="r3")
    log.add(CanaryStarted, 50, run="r3", model=ref(CHURN, 4))
    log.add(ModelPromoted, 53, run="r3", model=ref(CHURN, 4))  # lead time 5 h
    drift = {"model": ref(CHURN, 4), "drift_id": "d1", "window": window(58, 59)}
    log.add(DriftDetected, 60, run="r4", **drift)  # detected 2 h after the window start
    log.add(DriftDetected, 61, run="r4", **drift)  # same episode, not counted again
    log.add(ModelPromoted, 70, run="r4", model=ref(CHURN, 5))
    resolved = {"model": ref(CHURN, 5), "drift_id": "d1", "resolution": "model_replaced"}
    log.add(DriftResolved, 70.5, run="r4", **resolved)  # recovered 10.5 h after detection
    log.add(PredictionsLogged, 71, run="r5", model=ref(CHURN, 5))
    log.add(DataArrived, 10, run="f1", dataset=DATASET.model_copy(update={"name": "fraud"}))
    log.add(ModelPromoted, 11, run="f1", model=ref("fraud", 1))  # lead time 1 h
    return log


def test_all_models() -> None:
    kpis = compute_kpis(_history().entries, now=at(96))
    assert kpis.promotions == 4
    assert kpis.lead_time_samples == 3
    assert kpis.lead_time_median_s == 3 * HOUR
    assert kpis.lead_time_p90_s == pytest.approx(4.6 * HOUR)  # [1, 3, 5] h
    assert kpis.deployment_frequency_per_day == pytest.approx(1.0)  # 4 over 4 days
    assert kpis.change_failure_rate == pytest.approx(1 / 3)
    assert kpis.drift_episodes == 1
    assert kpis.mean_time_to_detect_s == 2 * HOUR
    assert kpis.mean_time_to_recover_s == 10.5 * HOUR
    assert (kpis.production_models, kpis.monitored_models) == (2, 1)
    assert kpis.monitoring_coverage == 0.5


def test_filter_by_model() -> None:
    churn = compute_kpis(_history().entries, model=CHURN, now=at(96))
    assert churn.promotions == 3
    assert churn.lead_time_median_s == 4 * HOUR
    assert churn.lead_time_p90_s == pytest.approx(4.8 * HOUR)
    assert churn.deployment_frequency_per_day == pytest.approx(0.75)
    assert churn.monitoring_coverage == 1.0
    fraud = compute_kpis(_history().entries, model="fraud", now=at(96))
    assert (fraud.promotions, fraud.lead_time_median_s) == (1, 1 * HOUR)
    assert fraud.change_failure_rate is None
    assert fraud.mean_time_to_detect_s is None
    assert fraud.monitoring_coverage == 0.0


def test_no_promotions_leaves_delivery_kpis_empty() -> None:
    log = Log()
    log.add(DataArrived, 0)
    log.add(CanaryStarted, 1)
    kpis = compute_kpis(log.entries)
    assert kpis.promotions == 0
    assert kpis.lead_time_median_s is None
    assert kpis.lead_time_p90_s is None
    assert kpis.mean_time_to_recover_s is None
    assert kpis.monitoring_coverage is None
    assert kpis.change_failure_rate == 0.0
    empty = compute_kpis([])
    assert empty.deployment_frequency_per_day is None
    assert empty.window_start is None


def test_monitoring_must_follow_the_latest_promotion() -> None:
    log = Log()
    log.add(ModelPromoted, 0, model=ref(CHURN, 2))
    log.add(PredictionsLogged, 1, model=ref(CHURN, 2))
    log.add(ModelPromoted, 2, model=ref(CHURN, 3))
    assert compute_kpis(log.entries).monitored_models == 0


def test_since_limits_the_window() -> None:
    kpis = compute_kpis(_history().entries, since=at(48), now=at(96))
    assert kpis.promotions == 2
    assert kpis.deployment_frequency_per_day == pytest.approx(1.0)  # 2 over 2 days
    assert kpis.lead_time_median_s == 5 * HOUR


def test_percentile_matches_numpy() -> None:
    for values in ([4.0], [1.0, 9.0], [5.0, 1.0, 3.0, 2.0, 8.0, 13.0]):
        for q in (0.5, 0.9):
            assert percentile(values, q) == pytest.approx(np.percentile(values, q * 100))


async def test_loaded_through_a_reader_in_pages() -> None:
    reader = FakeReader(_history().entries, page=2)
    kpis = await load_kpis(reader, model=None, since=None, now=at(96))
    assert kpis == compute_kpis(_history().entries, now=at(96))


def test_a_replacement_that_drifts_again_is_not_a_recovery() -> None:
    log = Log()
    drift = {"model": ref(CHURN, 2), "drift_id": "d1", "window": window(0, 1)}
    log.add(DriftDetected, 1, **drift)
    log.add(ModelPromoted, 2, model=ref(CHURN, 3))  # the drift comes straight back
    log.add(DriftDetected, 2.01, **{**drift, "model": ref(CHURN, 3)})
    kpis = compute_kpis(log.entries)
    assert (kpis.drift_episodes, kpis.recovered_episodes) == (1, 0)
    assert kpis.mean_time_to_recover_s is None
    log.add(DriftResolved, 5, model=ref(CHURN, 3), drift_id="d1")
    assert compute_kpis(log.entries).mean_time_to_recover_s == 4 * HOUR
