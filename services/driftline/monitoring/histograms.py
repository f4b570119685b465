"""Reference vs current distributions per feature, on the reference's bins or categories."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import pandas as pd
from pydantic import Field

from driftline.stats.profile import OTHER, ColumnProfile
from driftline_contracts.values import Value


class Distribution(Value):
    """Reference and current shares over the same bins (numbers) or categories (labels)."""

    feature: str = Field(description="Feature name ('prediction' for the prediction column).")
    labels: list[str] = Field(description="Bin ranges or category values.")
    reference: list[float] = Field(description="Reference share per label.")
    current: list[float] = Field(description="Current share per label.")


def distribution(feature: str, column: ColumnProfile, values: Sequence[object]) -> Distribution:
    """The reference column's distribution next to the window's ``values``."""
    series = pd.Series(list(values), dtype=object)
    if column.histogram is not None:
        edges = np.asarray(column.histogram.edges)
        numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64")
        numbers = numbers[np.isfinite(numbers)]
        # outer bins stretch to ±inf so values beyond the reference range still show
        bins = np.searchsorted(edges[1:-1], numbers, side="right")
        current = np.bincount(bins, minlength=len(column.histogram.counts))
        labels = [f"{lo:.4g}..{hi:.4g}" for lo, hi in pairwise(edges)]
        return _shares(feature, labels, column.histogram.counts, current.tolist())
    categories = column.categories or {}
    keys = [key for key in categories if key != OTHER]
    seen = series.dropna().astype(str)
    current_counts = [int((seen == key).sum()) for key in keys]
    reference_counts = [categories[key] for key in keys]
    if OTHER in categories or len(seen) > sum(current_counts):
        keys.append(OTHER)
        reference_counts.append(categories.get(OTHER, 0))
        current_counts.append(len(seen) - sum(current_counts))
    return _shares(feature, keys, reference_counts, current_counts)


def _shares(
    feature: str, labels: list[str], reference: Sequence[int], current: Sequence[int]
) -> Distribution:
    return Distribution(
        feature=feature, labels=labels, reference=_normalise(reference), current=_normalise(current)
    )


def _normalise(counts: Sequence[int]) -> list[float]:
    total = float(sum(counts))
    return [n / total if total else 0.0 for n in counts]
