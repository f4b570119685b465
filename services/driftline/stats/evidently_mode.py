"""Evidently-compatible drift: Evidently's default per-column test choice and thresholds.

Rules (Evidently ``DataDriftPreset`` defaults, reference size = valid reference values):

- numeric, more than 5 distinct values, reference > 1000: normalised Wasserstein >= 0.1;
- numeric, more than 5 distinct values, reference <= 1000: two-sample KS, p < 0.05;
- categorical (strings, booleans, numbers with at most 5 distinct values),
  reference > 1000: Jensen-Shannon distance (natural log, as scipy's) >= 0.1;
- categorical, reference <= 1000: chi-square, p < 0.05 (for two categories this equals
  Evidently's two-proportion Z-test: Pearson chi-square on a 2x2 table is z squared).

No multiple-testing correction and no effect floor, as in Evidently.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd

from driftline.stats.drift import FeatureDriftResult
from driftline.stats.dtypes import dtype_of, float_values, is_numeric
from driftline.stats.profile import OTHER, ColumnProfile, DatasetProfile
from driftline.stats.twosample import chi2_test, jensen_shannon, ks_test, wasserstein_normalised

LARGE_REFERENCE = 1000
"""Above this many reference values Evidently switches from tests to distances."""
MAX_NUMERIC_AS_CATEGORY = 5
"""Numeric columns with at most this many distinct values are treated as categorical."""
P_THRESHOLD = 0.05
DISTANCE_THRESHOLD = 0.1
_JS_BASE2_TO_E = math.sqrt(math.log(2))  # scipy's default base e distance = base-2 one x this


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
    if column.sample and column.distinct > MAX_NUMERIC_AS_CATEGORY:
        values = _numbers(series)
        if not values.size:
            return None
        reference = np.asarray(column.sample, dtype="float64")
        if large:
            distance = wasserstein_normalised(reference, values, column.std)
            return _distance(column.name, "wasserstein", distance)
        statistic, p_value = ks_test(reference, values)
        return _test(column.name, "ks", statistic, p_value)
    counts = _reference_counts(column)
    if not counts:
        return None
    current = _current_counts(series, counts, numeric=bool(column.sample))
    if not sum(current.values()):
        return None
    if large:
        distance = jensen_shannon(counts, current) * _JS_BASE2_TO_E
        return _distance(column.name, "jensen_shannon", distance)
    statistic, p_value = chi2_test(counts, current)
    return _test(column.name, "chi2", statistic, p_value)


def _test(feature: str, test: str, statistic: float, p_value: float) -> FeatureDriftResult:
    return FeatureDriftResult.model_validate(
        {"feature": feature, "test": test, "statistic": statistic, "p_value": p_value,
         "threshold": P_THRESHOLD, "drifted": p_value < P_THRESHOLD}
    )  # fmt: skip


def _distance(feature: str, test: str, distance: float) -> FeatureDriftResult:
    return FeatureDriftResult.model_validate(
        {"feature": feature, "test": test, "statistic": distance, "threshold": DISTANCE_THRESHOLD,
         "drifted": distance >= DISTANCE_THRESHOLD, "effect_size": distance, "effect_test": test}
    )  # fmt: skip


def _numbers(series: pd.Series) -> np.ndarray:
    if not is_numeric(dtype_of(series)):
        series = pd.to_numeric(series, errors="coerce")
    values = float_values(series).astype("float64", copy=False)
    return values[np.isfinite(values)]


def _reference_counts(column: ColumnProfile) -> dict[str, int]:
    if column.categories:
        return dict(column.categories)
    # few-valued numbers: the seeded sample stands in for the full reference counts
    return {_key(value): n for value, n in Counter(column.sample or []).items()}


def _current_counts(
    series: pd.Series, reference: dict[str, int], *, numeric: bool
) -> dict[str, int]:
    if numeric:
        keys = [_key(value) for value in _numbers(series)]
    else:
        keys = [str(value) for value in series.dropna()]
    known = {key for key in reference if key != OTHER}
    return dict(Counter(key if key in known else OTHER for key in keys))


def _key(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
