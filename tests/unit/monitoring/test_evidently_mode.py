"""Evidently-compatible mode: Evidently's per-column test choice, thresholds and share rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from driftline.monitoring.evaluation import Tolerances, evaluate_window
from driftline.stats.evidently_mode import evidently_column
from driftline.stats.profile import profile_frame
from driftline_contracts.modelspec import DriftPolicy
from tests.unit.monitoring.helpers import SHA, population, reference_of, window_of

EVIDENTLY = DriftPolicy(method="evidently", window_size=500)


def _column(values: pd.Series):
    return profile_frame(values.to_frame("x"), sha256=SHA, sample_size=5000).columns[0]


def test_small_numeric_reference_uses_ks_at_0_05() -> None:
    rng = np.random.default_rng(0)
    reference, current = pd.Series(rng.normal(size=800)), pd.Series(rng.normal(0.3, 1, 300))
    result = evidently_column(_column(reference), current)
    assert result is not None
    assert result.test == "ks"
    assert result.threshold == 0.05
    assert result.p_value == pytest.approx(stats.ks_2samp(reference, current).pvalue, abs=1e-9)
    assert result.drifted == (result.p_value < 0.05)


def test_large_numeric_reference_uses_normalised_wasserstein_at_0_1() -> None:
    rng = np.random.default_rng(1)
    reference, current = pd.Series(rng.normal(size=3000)), pd.Series(rng.normal(0.05, 1, 300))
    result = evidently_column(_column(reference), current)
    expected = stats.wasserstein_distance(reference, current) / reference.std()
    assert result is not None
    assert result.test == "wasserstein"
    assert result.p_value is None
    assert result.statistic == pytest.approx(expected, rel=1e-9)
    assert not result.drifted  # a 0.05 sd shift is below Evidently's 0.1
    shifted = evidently_column(_column(reference), pd.Series(rng.normal(0.5, 1, 300)))
    assert shifted is not None
    assert shifted.drifted


def test_small_categorical_reference_uses_chi2() -> None:
    reference = pd.Series(["a"] * 300 + ["b"] * 200)
    current = pd.Series(["a"] * 100 + ["b"] * 200)
    result = evidently_column(_column(reference), current)
    expected = stats.chi2_contingency([[300, 200], [100, 200]], correction=False).pvalue
    assert result is not None
    assert result.test == "chi2"
    assert result.p_value == pytest.approx(expected, abs=1e-12)
    assert result.drifted


def test_large_categorical_reference_uses_jensen_shannon_natural_log() -> None:
    reference = pd.Series(["a"] * 1500 + ["b"] * 500)
    current = pd.Series(["a"] * 150 + ["b"] * 150)
    result = evidently_column(_column(reference), current)
    expected = distance.jensenshannon([0.75, 0.25], [0.5, 0.5])  # scipy default: base e
    assert result is not None
    assert result.test == "jensen_shannon"
    assert result.statistic == pytest.approx(expected, rel=1e-9)
    assert result.drifted == (expected >= 0.1)


def test_few_valued_numbers_are_categorical() -> None:
    reference = pd.Series([0, 1] * 300)
    result = evidently_column(_column(reference), pd.Series([1] * 200))
    assert result is not None
    assert result.test == "chi2"
    assert result.drifted
    assert math.isclose(result.threshold, 0.05)


def test_half_the_columns_drifting_drifts_the_dataset() -> None:
    reference = population(800, seed=2)
    current = population(300, seed=3, shift=15.0)
    current["plan"] = "team"
    result = evaluate_window(reference_of(reference), window_of(current), EVIDENTLY, Tolerances())
    assert result.method == "evidently"
    assert result.drift_share == pytest.approx(2 / 3)
    assert result.drifted
    calm = evaluate_window(
        reference_of(reference), window_of(population(300, seed=4)), EVIDENTLY, Tolerances()
    )
    assert not calm.drifted
