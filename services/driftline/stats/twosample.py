"""Two-sample tests and distances between a reference and a current distribution."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import special, stats

from driftline.stats.ecdf import bin_counts_sorted, ks_sorted, sorted_finite, wasserstein_sorted
from driftline.stats.profile import Histogram


def ks_test(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov ``(statistic, p_value)``; non-finite values are dropped."""
    ref, cur = sorted_finite(reference), sorted_finite(current)
    if not ref.size or not cur.size:
        return 0.0, 1.0  # no data, no evidence of a difference
    return ks_sorted(ref, cur)


def chi2_test(
    reference_counts: Mapping[str, int], current_counts: Mapping[str, int]
) -> tuple[float, float]:
    """Pearson chi-squared ``(statistic, p_value)`` on the 2xK table of the union of categories."""
    table = _table(reference_counts, current_counts)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or not table.sum(axis=1).all():
        return 0.0, 1.0  # one category or one empty sample: nothing to compare
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def psi(reference: Histogram, current_values: np.ndarray, eps: float = 1e-4) -> float:
    """Population stability index of ``current_values`` on the reference bins.

    The outer bins extend to ±inf so values beyond the reference range count; proportions are
    floored at ``eps`` so empty bins stay finite.
    """
    values = sorted_finite(current_values)
    return psi_of_counts(reference.counts, bin_counts_sorted(reference.edges, values), eps)


def psi_of_counts(
    expected_counts: Sequence[int], actual_counts: np.ndarray, eps: float = 1e-4
) -> float:
    """PSI of two count vectors over the same bins (see ``psi``); 0 when either is empty."""
    expected = np.asarray(expected_counts, dtype="float64")
    actual = np.asarray(actual_counts, dtype="float64")
    if not actual.sum() or not expected.sum():
        return 0.0
    p = np.maximum(expected / expected.sum(), eps)
    q = np.maximum(actual / actual.sum(), eps)
    return float(np.sum((q - p) * np.log(q / p)))


def wasserstein_normalised(
    reference: np.ndarray, current: np.ndarray, reference_std: float | None
) -> float:
    """Earth mover's distance in units of the reference standard deviation (raw if it is 0)."""
    ref, cur = sorted_finite(reference), sorted_finite(current)
    if not ref.size or not cur.size:
        return 0.0
    return wasserstein_sorted(ref, cur) / std_scale(reference_std)


def std_scale(reference_std: float | None) -> float:
    """What a normalised distance divides by: the reference std, or 1 when it is 0 or unknown."""
    return reference_std if reference_std and np.isfinite(reference_std) else 1.0


def jensen_shannon(reference_counts: Mapping[str, int], current_counts: Mapping[str, int]) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between two category count tables."""
    p, q = _table(reference_counts, current_counts)
    if not p.sum() or not q.sum():
        return 0.0
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    divergence = (special.rel_entr(p, m).sum() + special.rel_entr(q, m).sum()) / (2 * np.log(2))
    return float(np.sqrt(min(max(divergence, 0.0), 1.0)))


def bh_adjusted(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN counts as 1."""
    p = np.nan_to_num(np.asarray(p_values, dtype="float64"), nan=1.0)
    if not p.size:
        return []
    order = np.argsort(p, kind="stable")
    scaled = p[order] * p.size / np.arange(1, p.size + 1)
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return adjusted.tolist()


def benjamini_hochberg(p_values: Sequence[float], alpha: float = 0.05) -> list[bool]:
    """Which hypotheses to reject at false discovery rate ``alpha`` (step-up procedure)."""
    return [q <= alpha for q in bh_adjusted(p_values)]


def _table(reference: Mapping[str, int], current: Mapping[str, int]) -> np.ndarray:
    keys = sorted(set(reference) | set(current))
    return np.array(
        [[reference.get(k, 0) for k in keys], [current.get(k, 0) for k in keys]], dtype="float64"
    ).reshape(2, len(keys))
