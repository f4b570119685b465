"""Drift of a current frame against a reference profile: a test plus an effect-size floor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from driftline.stats.dtypes import dtype_of, float_values, is_numeric
from driftline.stats.ecdf import bin_counts_sorted, ks_sorted, sorted_finite, wasserstein_sorted
from driftline.stats.profile import OTHER, ColumnProfile, DatasetProfile
from driftline.stats.twosample import (
    benjamini_hochberg,
    bh_adjusted,
    chi2_test,
    jensen_shannon,
    ks_test,
    psi,
    psi_of_counts,
    std_scale,
    wasserstein_normalised,
)
from driftline_contracts.values import FiniteFloat, Value

__all__ = [
    "FeatureDriftResult",
    "benjamini_hochberg",
    "bh_adjusted",
    "chi2_test",
    "compare_to_profile",
    "jensen_shannon",
    "ks_test",
    "psi",
    "wasserstein_normalised",
]

WASSERSTEIN_THRESHOLD = 0.1
"""Normalised Wasserstein distance counted as a material shift of a numeric feature."""
JENSEN_SHANNON_THRESHOLD = 0.1
"""Jensen-Shannon distance counted as a material shift of a categorical feature."""

Test = Literal["ks", "chi2", "psi", "wasserstein", "jensen_shannon"]


class FeatureDriftResult(Value):
    """Drift verdict for one feature: significant after BH correction and large enough."""

    feature: str = Field(description="Feature (column) name.")
    test: Test = Field(description="Hypothesis test (ks, chi2) or distance the verdict rests on.")
    statistic: FiniteFloat = Field(description="Test statistic or distance.")
    p_value: FiniteFloat | None = Field(
        None, ge=0, le=1, description="Benjamini-Hochberg adjusted p-value across features."
    )
    threshold: FiniteFloat = Field(
        description="Significance level the adjusted p-value is held to."
    )
    drifted: bool = Field(description="Significant and with an effect size above its floor.")
    effect_size: FiniteFloat | None = Field(None, description="Effect size behind the verdict.")
    effect_test: Test | None = Field(None, description="Measure of effect_size (psi, ...).")
    method: str | None = Field(
        None, description="Evidently mode: Evidently's stat-test name (ks, z, chisquare, ...)."
    )


@dataclass(frozen=True)
class _Measured:
    feature: str
    test: Test
    statistic: float
    p_value: float
    effect_test: Test
    effect_size: float
    material: bool


def compare_to_profile(
    reference: DatasetProfile,
    current: pd.DataFrame,
    *,
    alpha: float = 0.05,
    psi_threshold: float = 0.2,
) -> list[FeatureDriftResult]:
    """One result per profiled column present in ``current`` with valid values on both sides."""
    found = _measure_all(reference, current, psi_threshold)
    p_values = [m.p_value for m in found]
    verdicts = zip(found, bh_adjusted(p_values), benjamini_hochberg(p_values, alpha), strict=True)
    return [
        FeatureDriftResult(
            feature=m.feature,
            test=m.test,
            statistic=m.statistic,
            p_value=adjusted,
            threshold=alpha,
            drifted=significant and m.material,
            effect_size=m.effect_size,
            effect_test=m.effect_test,
        )
        for m, adjusted, significant in verdicts
    ]


def _measure_all(
    reference: DatasetProfile, current: pd.DataFrame, psi_threshold: float
) -> list[_Measured]:
    labels = {str(label): position for position, label in enumerate(current.columns)}
    measured = (
        _measure(column, current.iloc[:, labels[column.name]], psi_threshold)
        for column in reference.columns
        if column.name in labels
    )
    return [m for m in measured if m is not None]


def _measure(column: ColumnProfile, series: pd.Series, psi_threshold: float) -> _Measured | None:
    if column.sample and column.histogram is not None:
        return _numeric(column, series, psi_threshold)
    if column.categories:
        return _categorical(column, series)
    return None  # datetimes, and columns with no valid reference values


def _numeric(column: ColumnProfile, series: pd.Series, psi_threshold: float) -> _Measured | None:
    if not is_numeric(dtype_of(series)):
        series = pd.to_numeric(series, errors="coerce")
    values = sorted_finite(float_values(series))  # sorted once for KS, PSI and Wasserstein
    if not values.size or column.histogram is None:
        return None
    reference = reference_sample(column)
    if not reference.size:
        return None
    statistic, p_value = ks_sorted(reference, values)
    counts = bin_counts_sorted(np.asarray(column.histogram.edges), values)
    stability = psi_of_counts(column.histogram.counts, counts)
    distance = wasserstein_sorted(reference, values) / std_scale(column.std)
    by_psi = stability * WASSERSTEIN_THRESHOLD >= distance * psi_threshold  # larger vs its floor
    effect_test: Test = "psi" if by_psi else "wasserstein"
    material = stability >= psi_threshold or distance >= WASSERSTEIN_THRESHOLD
    effect = stability if effect_test == "psi" else distance
    return _Measured(column.name, "ks", statistic, p_value, effect_test, effect, material)


def reference_sample(column: ColumnProfile) -> np.ndarray:
    """The profile's finite sample, ascending (profiles store it sorted; older ones may not)."""
    sample = np.asarray(column.sample or [], dtype="float64")
    sample = sample[np.isfinite(sample)]
    return sample if (sample[1:] >= sample[:-1]).all() else np.sort(sample)


def _categorical(column: ColumnProfile, series: pd.Series) -> _Measured | None:
    reference = column.categories or {}
    counts = series.value_counts(sort=False, dropna=True)
    if not counts.sum():
        return None
    keys = counts.index.astype(str)
    known = keys.isin([key for key in reference if key != OTHER])
    current = counts.groupby(np.where(known, keys, OTHER)).sum()
    current_counts = {str(key): int(n) for key, n in current.items()}
    statistic, p_value = chi2_test(reference, current_counts)
    distance = jensen_shannon(reference, current_counts)
    material = distance >= JENSEN_SHANNON_THRESHOLD
    return _Measured(column.name, "chi2", statistic, p_value, "jensen_shannon", distance, material)
