"""Summary statistics of a dataset version: the reference later data is compared against."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
from pydantic import Field, NonNegativeInt

from driftline.stats.dtypes import ColumnFacts, Dtype, finite_or_none
from driftline_contracts.values import Sha256, Value

QUANTILES = {
    "p01": 0.01,
    "p05": 0.05,
    "p25": 0.25,
    "p50": 0.5,
    "p75": 0.75,
    "p95": 0.95,
    "p99": 0.99,
}
"""Quantiles kept for numeric columns, by key."""
OTHER = "__other__"
"""Category key counting every value outside the top-k."""


class Histogram(Value):
    """Equal-width histogram: ``len(edges) == len(counts) + 1``; the last bin includes its edge."""

    edges: list[float] = Field(description="Bin edges, ascending.")
    counts: list[NonNegativeInt] = Field(description="Values per bin.")


class ColumnProfile(Value):
    """Summary of one column; statistics ignore nulls and ±inf (counted separately)."""

    name: str = Field(description="Column name.")
    dtype: Dtype = Field(description="Logical type of the column.")
    count: NonNegativeInt = Field(description="Valid values: neither null nor ±inf.")
    nulls: NonNegativeInt = Field(description="Missing values.")
    infinite: NonNegativeInt = Field(0, description="±inf values (invalid, excluded from stats).")
    distinct: NonNegativeInt = Field(description="Distinct valid values.")
    min: float | None = Field(None, description="Smallest value (datetimes: epoch seconds).")
    max: float | None = Field(None, description="Largest value (datetimes: epoch seconds).")
    mean: float | None = Field(None, description="Mean (booleans: share of true).")
    std: float | None = Field(None, description="Sample standard deviation (ddof=1).")
    quantiles: dict[str, float] = Field(
        default_factory=dict, description="Numeric quantiles p01..p99 (linear interpolation)."
    )
    histogram: Histogram | None = Field(None, description="Equal-width histogram of numbers.")
    categories: dict[str, int] | None = Field(
        None, description=f"Top-k value counts of strings and booleans, plus {OTHER!r}."
    )
    sample: list[float] | None = Field(
        None, description="Seeded random sample of valid numbers, sorted (for KS tests)."
    )


class DatasetProfile(Value):
    """Profile of one dataset version."""

    rows: NonNegativeInt = Field(description="Number of rows.")
    columns: list[ColumnProfile] = Field(description="One profile per column, in frame order.")
    sha256: Sha256 = Field(description="SHA-256 of the dataset object the profile describes.")

    def column(self, name: str) -> ColumnProfile | None:
        """The profile of column ``name``, if there is one."""
        return next((column for column in self.columns if column.name == name), None)


def profile_frame(
    df: pd.DataFrame,
    *,
    sha256: str,
    bins: int = 20,
    top_k: int = 50,
    sample_size: int = 2000,
    seed: int = 0,
) -> DatasetProfile:
    """Profile every column of ``df``; deterministic for a given ``seed``."""
    columns = []
    for position, label in enumerate(df.columns):
        series = df.iloc[:, position]
        name = str(label)
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        columns.append(profile_column(name, series, bins, top_k, sample_size, rng))
    return DatasetProfile(rows=len(df), columns=columns, sha256=sha256)


def profile_column(
    name: str, series: pd.Series, bins: int, top_k: int, sample_size: int, rng: np.random.Generator
) -> ColumnProfile:
    """Profile of one column."""
    column = ColumnFacts(series)
    dtype = column.dtype
    nulls, infinite = column.invalid
    fields: dict[str, object] = {
        "name": name,
        "dtype": dtype,
        "count": len(series) - nulls - infinite,
        "nulls": nulls,
        "infinite": infinite,
        "distinct": 0,
    }
    with np.errstate(all="ignore"):
        if dtype in ("integer", "float"):
            fields |= _numeric(column.values, bins, sample_size, rng)
        elif dtype == "datetime":
            fields |= _datetime(series)
        else:
            fields |= _categorical(series, dtype, top_k)
    return ColumnProfile.model_validate(fields)


def _numeric(values: np.ndarray, bins: int, sample_size: int, rng: np.random.Generator) -> dict:
    valid = values[np.isfinite(values)].astype("float64", copy=False)
    if not valid.size:
        return {}
    ordered = np.sort(valid)  # one sort (~6 ms per 10^6) beats hashing and partitioning
    quantiles = np.quantile(ordered, list(QUANTILES.values()))
    picked = valid if valid.size <= sample_size else rng.choice(valid, sample_size, replace=False)
    return {
        "distinct": _distinct_sorted(ordered),
        "min": float(valid.min()),
        "max": float(valid.max()),
        "mean": finite_or_none(valid.mean()),
        "std": finite_or_none(valid.std(ddof=1)) if valid.size > 1 else None,
        "quantiles": {key: float(q) for key, q in zip(QUANTILES, quantiles, strict=True)},
        "histogram": _histogram(valid, bins),
        "sample": np.sort(picked).tolist(),
    }


def _distinct_sorted(ordered: np.ndarray) -> int:
    """Distinct values of a sorted float array (0.0 and -0.0 are one, as in ``pd.unique``)."""
    return 1 + int(np.count_nonzero(ordered[1:] != ordered[:-1]))


def _histogram(valid: np.ndarray, bins: int) -> Histogram | None:
    low, high = valid.min(), valid.max()
    if low == high:
        low, high = low - 0.5, high + 0.5
    # near float64's limits the span overflows or adjacent edges collapse into one another
    edges = np.unique(np.linspace(low, high, bins + 1))
    if edges.size < 2 or not np.isfinite(edges).all():
        return None
    counts, _ = np.histogram(valid, bins=edges)
    return Histogram(edges=edges.tolist(), counts=counts.tolist())


def _categorical(series: pd.Series, dtype: Dtype, top_k: int) -> dict:
    counts = series.value_counts(sort=False, dropna=True)
    if isinstance(series.dtype, pd.CategoricalDtype):
        counts = counts[counts.to_numpy() > 0]  # unused categories are listed too
    top = counts.nlargest(top_k)  # partial selection: a full sort of 10^6 keys costs 3x more
    categories = {str(value): int(n) for value, n in top.items()}
    other = int(counts.sum()) - int(top.sum())
    if other:
        categories[OTHER] = other
    fields: dict[str, object] = {"distinct": len(counts), "categories": categories}
    if dtype == "boolean" and len(counts):
        fields["mean"] = float(counts.get(True, 0)) / float(counts.sum())
    return fields


def _datetime(series: pd.Series) -> dict:
    stamps = pd.to_datetime(series, errors="coerce", utc=True).dropna()
    if stamps.empty:
        return {}
    return {
        "distinct": int(stamps.nunique()),
        "min": stamps.min().timestamp(),
        "max": stamps.max().timestamp(),
    }
