"""The floor: a tuned single-threaded numpy/scipy pass over the full frames, no summaries.

Per numeric column: sort both samples, the two-sample KS statistic from the ECDFs at the
reference's distinct values (scipy's ``ks_2samp`` numbers: same counts, same p-value
formula) and PSI on 20 equal-width reference bins. Per categorical column: Pearson's
two-sample chi-square on the 2xK table. Written independently of ``driftline.stats``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

EXACT_N = 10_000  # scipy's ks_2samp computes exact p-values up to this size
BINS = 20
EPS = 1e-4


def ks(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """KS ``(statistic, p_value)`` of two sorted samples, as ``scipy.stats.ks_2samp``."""
    m, n = reference.size, current.size
    if max(m, n) <= EXACT_N:
        result = stats.ks_2samp(reference, current)
        return float(result.statistic), float(result.pvalue)
    first = np.flatnonzero(np.r_[True, reference[1:] != reference[:-1]])  # distinct values
    last = np.r_[first[1:], m]  # reference values <= each distinct value
    probes = reference[first]
    above = last / m - np.searchsorted(current, probes, "right") / n
    below = first / m - np.searchsorted(current, probes, "left") / n
    gaps = np.concatenate([above, below])
    high, low = gaps.max(), np.clip(-gaps.min(), 0, 1)
    statistic = low if low > high else high
    big, small = sorted([float(m), float(n)], reverse=True)
    p_value = stats.kstwo.sf(statistic, np.round(big * small / (big + small)))
    return float(statistic), float(np.clip(p_value, 0, 1))


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """PSI of two sorted samples on equal-width reference bins, outer bins open-ended."""
    inner = np.linspace(reference[0], reference[-1], BINS + 1)[1:-1]

    def shares(values: np.ndarray) -> np.ndarray:
        counts = np.diff(np.searchsorted(values, inner, "left"), prepend=0, append=values.size)
        return np.maximum(counts / values.size, EPS)

    p, q = shares(reference), shares(current)
    return float(np.sum((q - p) * np.log(q / p)))


def chi_square(reference: pd.Series, current: pd.Series) -> tuple[float, float]:
    """Pearson two-sample chi-square ``(statistic, p_value)`` over both sides' categories."""
    table = pd.concat([reference.value_counts(), current.value_counts()], axis=1, sort=True).fillna(
        0
    )
    result = stats.chi2_contingency(table.to_numpy().T, correction=False)
    return float(result.statistic), float(result.pvalue)


def run(
    reference: pd.DataFrame, current: pd.DataFrame, numeric: list[str], categorical: list[str]
) -> dict[str, dict[str, float]]:
    """Every column's statistics: KS and PSI for numbers, chi-square for categories."""
    found: dict[str, dict[str, float]] = {}
    for name in numeric:
        ref = np.sort(reference[name].to_numpy(dtype="float64"))
        cur = np.sort(current[name].to_numpy(dtype="float64"))
        statistic, p_value = ks(ref, cur)
        found[name] = {"statistic": statistic, "p_value": p_value, "psi": psi(ref, cur)}
    for name in categorical:
        statistic, p_value = chi_square(reference[name], current[name])
        found[name] = {"statistic": statistic, "p_value": p_value}
    return found
