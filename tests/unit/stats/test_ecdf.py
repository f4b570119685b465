"""Sorted-sample KS and Wasserstein give scipy's numbers, ties and large samples included."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from driftline.stats.ecdf import (
    MAX_EXACT_N,
    bin_counts_sorted,
    ks_sorted,
    ks_statistic,
    sorted_finite,
    wasserstein_sorted,
)

sizes = st.sampled_from([1, 7, 2000, MAX_EXACT_N + 1, 30_000])


def _sample(seed: int, size: int, ties: int) -> np.ndarray:
    """Normal values, rounded to ``ties`` decimals (0: many ties) or left continuous (-1)."""
    values = np.random.default_rng(seed).normal(seed % 3 * 0.05, 1 + seed % 2, size)
    return np.sort(values if ties < 0 else np.round(values, ties))


@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful")
@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), sizes, sizes, st.sampled_from([-1, 0, 2]))
def test_ks_and_wasserstein_equal_scipy(seed: int, m: int, n: int, ties: int) -> None:
    reference, current = _sample(seed, m, ties), _sample(seed + 1, n, ties)
    expected = stats.ks_2samp(reference, current)
    assert ks_sorted(reference, current) == (expected.statistic, expected.pvalue)
    # scipy's exact mode (both sizes <= MAX_EXACT_N) rounds the statistic to a 1/lcm lattice
    exact = max(m, n) <= MAX_EXACT_N
    assert ks_statistic(reference, current) == pytest.approx(expected.statistic, abs=1e-15 * exact)
    assert wasserstein_sorted(reference, current) == pytest.approx(
        stats.wasserstein_distance(reference, current), rel=1e-12, abs=1e-15
    )


def test_identical_samples_are_at_distance_zero() -> None:
    values = _sample(3, 20_000, 1)
    assert ks_sorted(values, values) == (0.0, 1.0)
    assert wasserstein_sorted(values, values) == 0.0


def test_bin_counts_put_values_beyond_the_edges_in_the_outer_bins() -> None:
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    values = np.array([-5.0, 0.0, 0.5, 1.0, 2.0, 2.5, 3.0, 9.0])
    expected = np.bincount(np.searchsorted(edges[1:-1], values, "right"), minlength=3)
    assert bin_counts_sorted(edges, values).tolist() == expected.tolist() == [3, 1, 4]


def test_sorted_finite_drops_nan_and_inf() -> None:
    values = np.array([3.0, np.nan, -np.inf, 1.0, np.inf, 2.0])
    assert sorted_finite(values).tolist() == [1.0, 2.0, 3.0]
