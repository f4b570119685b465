"""The tests and distances agree with scipy and with hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon

from driftline.stats.drift import (
    benjamini_hochberg,
    bh_adjusted,
    chi2_test,
    jensen_shannon,
    ks_test,
    psi,
    wasserstein_normalised,
)
from driftline.stats.profile import Histogram

samples = st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=300).map(np.array)
counts = st.dictionaries(st.sampled_from("abcdefg"), st.integers(0, 10_000), min_size=1)


@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful")
@settings(max_examples=50, deadline=None)
@given(samples, samples)
def test_ks_equals_scipy(reference: np.ndarray, current: np.ndarray) -> None:
    expected = stats.ks_2samp(reference, current)
    statistic, p_value = ks_test(reference, current)
    assert statistic == pytest.approx(expected.statistic, abs=1e-9)
    assert p_value == pytest.approx(expected.pvalue, abs=1e-9)


@settings(max_examples=50, deadline=None)
@given(counts, counts)
def test_chi2_equals_scipy_on_the_union_of_categories(reference: dict, current: dict) -> None:
    keys = sorted(set(reference) | set(current))
    table = np.array([[reference.get(k, 0) for k in keys], [current.get(k, 0) for k in keys]])
    table = table[:, table.sum(axis=0) > 0]
    statistic, p_value = chi2_test(reference, current)
    if table.shape[1] < 2 or not table.sum(axis=1).all():
        assert (statistic, p_value) == (0.0, 1.0)
        return
    expected = stats.chi2_contingency(table, correction=False)
    assert statistic == pytest.approx(expected.statistic, abs=1e-9)
    assert p_value == pytest.approx(expected.pvalue, abs=1e-9)


def test_psi_matches_a_hand_computed_example() -> None:
    reference = Histogram(edges=[0, 1, 2, 3], counts=[50, 30, 20])
    # 20% / 30% / 50%; values beyond the reference range land in the outer bins
    current = np.repeat([0.5, -5.0, 1.5, 2.5, 10.0, np.nan], [10, 10, 30, 40, 10, 5])
    expected = (0.2 - 0.5) * math.log(0.2 / 0.5) + (0.5 - 0.2) * math.log(0.5 / 0.2)
    assert psi(reference, current) == pytest.approx(expected, rel=1e-12)
    assert psi(reference, np.repeat([0.5, 1.5, 2.5], [50, 30, 20])) == pytest.approx(0.0)


def test_psi_floors_empty_bins_at_eps() -> None:
    reference = Histogram(edges=[0, 1, 2], counts=[100, 0])
    expected = (0.5 - 1e-4) * math.log(0.5 / 1e-4) + (0.5 - 1.0) * math.log(0.5 / 1.0)
    assert psi(reference, np.array([0.5, 1.5])) == pytest.approx(expected, rel=1e-12)


def test_benjamini_hochberg_matches_a_hand_computed_example() -> None:
    # sorted thresholds i * 0.05 / 3: 0.0167, 0.0333, 0.05. 0.02 misses its own threshold but
    # is rejected because 0.024 (rank 2) passes: the procedure steps up.
    assert benjamini_hochberg([0.02, 0.2, 0.024]) == [True, False, True]
    assert bh_adjusted([0.02, 0.2, 0.024]) == pytest.approx([0.036, 0.2, 0.036])
    assert benjamini_hochberg([0.004, 0.012, 0.028, 0.039, 0.2, 0.6]) == [True, True] + [False] * 4
    assert benjamini_hochberg([]) == []


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), max_size=40))
def test_adjusted_p_values_equal_scipy(p_values: list[float]) -> None:
    if p_values:
        expected = stats.false_discovery_control(p_values)
        assert bh_adjusted(p_values) == pytest.approx(expected.tolist(), abs=1e-12)


def test_jensen_shannon_equals_scipy_base_2() -> None:
    reference, current = {"a": 10, "b": 30, "c": 60}, {"a": 40, "b": 30, "d": 5}
    p, q = np.array([10, 30, 60, 0]), np.array([40, 30, 0, 5])
    assert jensen_shannon(reference, current) == pytest.approx(jensenshannon(p, q, base=2))
    assert jensen_shannon(reference, reference) == 0.0
    assert jensen_shannon({"a": 1}, {"b": 1}) == pytest.approx(1.0)


def test_wasserstein_is_in_units_of_the_reference_std() -> None:
    reference = np.arange(100.0)
    shifted = reference + 5.0
    assert wasserstein_normalised(reference, shifted, 10.0) == pytest.approx(0.5)
    assert wasserstein_normalised(reference, shifted, 0.0) == pytest.approx(5.0)
    assert wasserstein_normalised(reference, np.array([np.nan]), 10.0) == 0.0


def test_empty_samples_carry_no_evidence() -> None:
    assert ks_test(np.array([]), np.array([1.0])) == (0.0, 1.0)
    assert chi2_test({}, {"a": 3}) == (0.0, 1.0)
    assert psi(Histogram(edges=[0, 1], counts=[5]), np.array([])) == 0.0
