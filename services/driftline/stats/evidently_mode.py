"""Evidently-compatible drift: Evidently 0.7's default per-column method choice and thresholds.

Column type (Evidently's inference): floats are numerical; integers with at most 10 distinct
reference values, strings and booleans are categorical; other integers numerical. With
``n`` = distinct values of reference and current together and the reference size = valid
reference values (Evidently's ``_get_default_stattest``):

=============  ==========================================  ===========================
column         reference <= 1000                           reference > 1000
=============  ==========================================  ===========================
numerical      n > 5: KS, p < 0.05;                        n > 5: Wasserstein / std
               n <= 5: chi-square (n > 2) or Z (n <= 2)    (ddof=0) >= 0.1; n <= 5:
                                                           Jensen-Shannon >= 0.1
categorical    chi-square (n > 2) or Z-test (n <= 2),      Jensen-Shannon >= 0.1
               p < 0.05
=============  ==========================================  ===========================

Evidently's chi-square is a goodness-of-fit test of the current counts against the
reference proportions taken as exact (a category unseen in the reference makes p = 0);
its Z-test is the pooled two-proportion test, whose p-value equals Pearson's chi-square on
the 2x2 table. Jensen-Shannon is scipy's (natural log) over the categories of both sides.
No multiple-testing correction and no effect floor, as in Evidently.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

from driftline.stats.drift import FeatureDriftResult, reference_sample
from driftline.stats.dtypes import dtype_of, float_values, is_numeric
from driftline.stats.ecdf import ks_sorted, wasserstein_sorted
from driftline.stats.profile import OTHER, ColumnProfile, DatasetProfile
from driftline.stats.twosample import chi2_test

LARGE_REFERENCE = 1000
"""Above this many reference values Evidently switches from tests to distances."""
MAX_FEW_VALUES = 5
"""Numerical columns with at most this many distinct values get categorical methods."""
INTEGER_CARDINALITY_LIMIT = 10
"""Integer columns with at most this many distinct values are categorical in Evidently."""
P_THRESHOLD = 0.05
DISTANCE_THRESHOLD = 0.1
_FEW = max(MAX_FEW_VALUES, INTEGER_CARDINALITY_LIMIT)  # columns that may get count-based tests
_TESTS = {"ks": "ks", "chisquare": "chi2", "z": "chi2", "wasserstein": "wasserstein",
          "jensenshannon": "jensen_shannon"}  # fmt: skip


def evidently_compare(reference: DatasetProfile, current: pd.DataFrame) -> list[FeatureDriftResult]:
    """One Evidently-style verdict per profiled column present in ``current``."""
    labels = {str(label): position for position, label in enumerate(current.columns)}
    found = (
        evidently_column(column, current.iloc[:, labels[column.name]])
        for column in reference.columns
        if column.name in labels
    )
    return [result for result in found if result is not None]


def evidently_column(column: ColumnProfile, series: pd.Series) -> FeatureDriftResult | None:
    """The verdict Evidently's default method choice gives one column."""
    large = column.count > LARGE_REFERENCE
    numerical = bool(column.sample) and not (
        column.dtype == "integer" and column.distinct <= INTEGER_CARDINALITY_LIMIT
    )
    numbers = np.sort(_numbers(series)) if column.sample else None  # sorted once, reused
    if numbers is not None and not (numbers.size and reference_sample(column).size):
        return None
    reference = _reference_counts(column)
    if not reference:
        return None
    if numerical and numbers is not None and _distinct(numbers) > MAX_FEW_VALUES:
        return _numerical(column, numbers, large)  # > 5 values in the window alone
    current = _current_counts(series, numbers, reference)
    if not sum(current.values()):
        return None
    n_values = len(set(reference) | set(current))
    if numerical and n_values > MAX_FEW_VALUES and numbers is not None:
        return _numerical(column, numbers, large)
    if large:
        return _distance(column.name, "jensenshannon", _jensen_shannon(reference, current))
    if n_values > 2:
        statistic, p_value = goodness_of_fit(reference, current)
        return _test(column.name, "chisquare", statistic, p_value)
    statistic, p_value = chi2_test(reference, current)  # = the pooled two-proportion Z-test
    return _test(column.name, "z", math.sqrt(statistic), p_value)


def _numerical(column: ColumnProfile, ordered: np.ndarray, large: bool) -> FeatureDriftResult:
    sample = reference_sample(column)
    if large:
        return _distance(column.name, "wasserstein", _wasserstein(column, sample, ordered))
    statistic, p_value = ks_sorted(sample, ordered)
    return _test(column.name, "ks", statistic, p_value)


def _distinct(ordered: np.ndarray) -> int:
    return 1 + int(np.count_nonzero(ordered[1:] != ordered[:-1])) if ordered.size else 0


def goodness_of_fit(reference: dict[str, int], current: dict[str, int]) -> tuple[float, float]:
    """Evidently's chi-square: current counts vs reference proportions scaled to the current.

    A category seen only in the current window has an expected count of 0: Evidently's
    statistic is then infinite and p = 0; the statistic here is over the other categories.
    """
    keys = sorted(set(reference) | set(current))
    n_ref, n_cur = sum(reference.values()), sum(current.values())
    observed = np.array([current.get(k, 0) for k in keys], dtype="float64")
    expected = np.array([reference.get(k, 0) for k in keys], dtype="float64") * n_cur / n_ref
    seen = expected > 0
    statistic = float(np.sum((observed[seen] - expected[seen]) ** 2 / expected[seen]))
    if (observed[~seen] > 0).any():
        return statistic, 0.0
    return statistic, float(stats.chi2.sf(statistic, max(int(seen.sum()) - 1, 1)))


def _jensen_shannon(reference: dict[str, int], current: dict[str, int]) -> float:
    keys = sorted(set(reference) | set(current))
    n_ref, n_cur = sum(reference.values()), sum(current.values())
    p = [reference.get(k, 0) / n_ref for k in keys]
    q = [current.get(k, 0) / n_cur for k in keys]
    return float(distance.jensenshannon(p, q))


def _wasserstein(column: ColumnProfile, sample: np.ndarray, current: np.ndarray) -> float:
    """Evidently's normed Wasserstein of two sorted samples."""
    # Evidently divides by the reference's population std (ddof=0), floored at 0.001
    n = column.count
    std = (column.std or 0.0) * math.sqrt((n - 1) / n) if n > 1 else 0.0
    return wasserstein_sorted(sample, current) / max(std, 0.001)


def _test(feature: str, method: str, statistic: float, p_value: float) -> FeatureDriftResult:
    return FeatureDriftResult.model_validate(
        {"feature": feature, "test": _TESTS[method], "statistic": statistic, "p_value": p_value,
         "threshold": P_THRESHOLD, "drifted": p_value < P_THRESHOLD, "method": method}
    )  # fmt: skip


def _distance(feature: str, method: str, value: float) -> FeatureDriftResult:
    test = _TESTS[method]
    return FeatureDriftResult.model_validate(
        {"feature": feature, "test": test, "statistic": value, "threshold": DISTANCE_THRESHOLD,
         "drifted": value >= DISTANCE_THRESHOLD, "effect_size": value, "effect_test": test,
         "method": method}
    )  # fmt: skip


def _numbers(series: pd.Series) -> np.ndarray:
    if not is_numeric(dtype_of(series)):
        series = pd.to_numeric(series, errors="coerce")
    values = float_values(series).astype("float64", copy=False)
    return values[np.isfinite(values)]


def _reference_counts(column: ColumnProfile) -> dict[str, int]:
    if column.categories and not column.sample:
        return {k: n for k, n in column.categories.items() if n}
    sampled = Counter(column.sample or [])
    exact = _histogram_counts(column, sorted(sampled))
    if exact is not None:
        return exact
    # the seeded sample stands in for the reference (it is all of it up to 2000 values)
    return {_key(value): n for value, n in sampled.items()}


def _histogram_counts(column: ColumnProfile, values: list[float]) -> dict[str, int] | None:
    """Exact counts of a few-valued column: each value alone in its histogram bin."""
    histogram = column.histogram
    if histogram is None or len(values) != column.distinct or column.distinct > _FEW:
        return None
    inner = np.asarray(histogram.edges[1:-1])
    bins = np.searchsorted(inner, values, side="right")
    occupied = [i for i, n in enumerate(histogram.counts) if n]
    if sorted(set(bins.tolist())) != occupied or len(occupied) != len(values):
        return None  # two values share a bin, or a value is missing from the sample
    return {_key(v): int(histogram.counts[b]) for v, b in zip(values, bins, strict=True)}


def _current_counts(
    series: pd.Series, numbers: np.ndarray | None, reference: dict[str, int]
) -> dict[str, int]:
    counts: Counter[str] = Counter()
    if numbers is not None:
        values, found = np.unique(numbers, return_counts=True)
        for value, n in zip(values, found, strict=True):
            counts[_key(value)] += int(n)
        return dict(counts)
    for value, n in series.value_counts(dropna=True, sort=False).items():
        counts[str(value)] += int(n)  # 1 and "1" in an object column are one category
    if OTHER not in reference:
        return dict(counts)
    # the profile kept the top categories and pooled the rest: pool the current the same way
    pooled: Counter[str] = Counter()
    for key, n in counts.items():
        pooled[key if key in reference else OTHER] += n
    return dict(pooled)


def _key(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
