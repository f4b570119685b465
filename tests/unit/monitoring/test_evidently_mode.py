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
    expected = stats.wasserstein_distance(reference, current) / np.std(reference)  # ddof=0
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


def test_many_categories_use_evidently_goodness_of_fit_chi_square() -> None:
    reference = pd.Series(["a"] * 300 + ["b"] * 200 + ["c"] * 100)
    current = pd.Series(["a"] * 90 + ["b"] * 60 + ["c"] * 50)
    result = evidently_column(_column(reference), current)
    # Evidently: reference proportions taken as exact, scaled to the current size
    expected = stats.chisquare([90, 60, 50], [300 / 3, 200 / 3, 100 / 3]).pvalue
    assert result is not None
    assert (result.method, result.test) == ("chisquare", "chi2")
    assert result.p_value == pytest.approx(expected, abs=1e-12)
    unseen = evidently_column(_column(reference), pd.Series(["a"] * 199 + ["new"]))
    assert unseen is not None
    assert unseen.p_value == 0.0  # Evidently's expected count of 0: infinite statistic
    assert unseen.drifted


def test_two_categories_use_the_z_test() -> None:
    result = evidently_column(_column(pd.Series(["x", "y"] * 200)), pd.Series(["x"] * 150))
    assert result is not None
    assert result.method == "z"
    assert result.drifted


def test_integers_with_at_most_ten_values_are_categorical() -> None:
    rng = np.random.default_rng(5)
    few = pd.Series(rng.integers(0, 8, 600))
    result = evidently_column(_column(few), pd.Series(rng.integers(0, 8, 300)))
    assert result is not None
    assert result.method == "chisquare"
    many = pd.Series(rng.integers(0, 40, 600))
    assert evidently_column(_column(many), pd.Series(rng.integers(0, 40, 300))).method == "ks"
    floats = pd.Series(rng.integers(0, 8, 600).astype(float))
    assert (
        evidently_column(_column(floats), pd.Series(rng.integers(0, 8, 300) * 1.0)).method == "ks"
    )


def test_distinct_values_are_counted_over_reference_and_current() -> None:
    reference = pd.Series([0.5, 1.5, 2.5] * 200)  # 3 values: chi-square on its own
    current = pd.Series([0.5, 1.5, 2.5, 3.5, 4.5, 5.5] * 50)  # 6 together: KS, as Evidently
    result = evidently_column(_column(reference), current)
    assert result is not None
    assert result.method == "ks"
