"""Window evaluation: scipy-exact tests, BH across features, effect floor, share rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from driftline.monitoring.evaluation import Tolerances, evaluate_window, severity_of
from driftline.stats.drift import bh_adjusted
from driftline_contracts.modelspec import DriftPolicy
from tests.unit.monitoring.helpers import population, reference_of, window_of

POLICY = DriftPolicy(window_size=500)


def test_ks_and_chi2_p_values_match_scipy_then_bh_across_features() -> None:
    reference_frame, current = population(800, seed=1), population(300, seed=2, shift=2.0)
    reference = reference_of(reference_frame)
    result = evaluate_window(reference, window_of(current), POLICY, Tolerances())
    by_name = {f.feature: f for f in result.features}
    raw = {
        name: stats.ks_2samp(reference_frame[name], current[name]).pvalue
        for name in ("age", "income")
    }
    table = pd.crosstab(
        np.r_[np.zeros(800), np.ones(300)], np.r_[reference_frame["plan"], current["plan"]]
    ).to_numpy()
    raw["plan"] = stats.chi2_contingency(table, correction=False).pvalue
    names = list(raw)
    expected = dict(zip(names, bh_adjusted([raw[n] for n in names]), strict=True))
    for name in names:
        assert by_name[name].p_value == pytest.approx(expected[name], abs=1e-9)
    assert by_name["age"].test == "ks"
    assert by_name["plan"].test == "chi2"


def test_bh_keeps_family_wise_false_alarms_down_across_many_features() -> None:
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({f"f{i}": rng.normal(size=2000) for i in range(40)})
    reference["label"] = 0
    current = pd.DataFrame({f"f{i}": rng.normal(size=500) for i in range(40)})
    current["label"] = 0
    result = evaluate_window(reference_of(reference), window_of(current), POLICY, Tolerances())
    assert not any(f.drifted for f in result.features)
    assert not result.drifted


def test_effect_floor_stops_a_trivial_shift_on_100k_rows() -> None:
    reference, current = population(100_000, seed=4), population(100_000, seed=5, shift=0.3)
    result = evaluate_window(reference_of(reference), window_of(current), POLICY, Tolerances())
    age = next(f for f in result.features if f.feature == "age")
    raw_p = stats.ks_2samp(reference["age"], current["age"]).pvalue
    assert raw_p < 1e-6  # significant: 0.03 standard deviations on 10^5 rows
    assert age.effect_size is not None
    assert age.effect_size < POLICY.psi_threshold
    assert not age.drifted
    assert not result.drifted


def test_a_real_shift_drifts_the_window_and_the_predictions() -> None:
    reference = population(3000, seed=6)
    current = population(500, seed=7, shift=15.0)
    current["plan"] = "team"
    current["label"] = 1
    result = evaluate_window(reference_of(reference), window_of(current), POLICY, Tolerances())
    assert {f.feature for f in result.features if f.drifted} == {"age", "plan"}
    assert result.drift_share == pytest.approx(2 / 3)
    assert result.drifted
    assert "feature_drift" in result.reasons
    assert result.prediction is not None
    assert result.prediction.drifted
    assert result.severity == "high"


def test_drift_share_rule_uses_the_policy_share() -> None:
    reference = population(3000, seed=8)
    current = population(500, seed=9, shift=15.0)  # only age moves: 1 of 3 features
    strict = DriftPolicy(window_size=500, drift_share=0.5)
    loose = DriftPolicy(window_size=500, drift_share=0.3)
    window = window_of(current)
    assert not evaluate_window(reference_of(reference), window, strict, Tolerances()).drifted
    assert evaluate_window(reference_of(reference), window, loose, Tolerances()).drifted


def test_data_quality_nulls_and_out_of_range_flag_the_window() -> None:
    reference = population(2000, seed=10)
    current = population(400, seed=11)
    current.loc[:199, "income"] = None
    current.loc[200:, "age"] = 1e6
    result = evaluate_window(reference_of(reference), window_of(current), POLICY, Tolerances())
    flagged = {(q.feature, q.check) for q in result.quality if q.flagged}
    assert flagged == {("income", "null_rate"), ("age", "out_of_range")}
    assert "data_quality" in result.reasons


def test_performance_drop_needs_enough_labels_and_a_training_metric() -> None:
    reference = reference_of(population(2000, seed=12), metrics={"accuracy": 0.95})
    current = population(400, seed=13)
    wrong = [1 - y for y in current["label"]]
    dropped = evaluate_window(reference, window_of(current, wrong), POLICY, Tolerances())
    assert dropped.performance.value == 0.0
    assert dropped.performance.dropped
    assert "performance_drop" in dropped.reasons
    few = evaluate_window(reference, window_of(current, wrong), POLICY, Tolerances(min_labels=1000))
    assert not few.performance.dropped


def test_severity_grows_with_share_and_performance() -> None:
    assert severity_of(0.1, ["prediction_drift"]) == "medium"
    assert severity_of(0.5, ["feature_drift"]) == "high"
    assert severity_of(0.8, ["feature_drift"]) == "critical"
    assert severity_of(0.5, ["feature_drift", "performance_drop"]) == "critical"
