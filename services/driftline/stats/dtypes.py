"""Logical column types, and the per-column facts (extremes, nulls, ±inf) the checks share."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from driftline.stats.spec import Dtype as Dtype  # declared with the spec: no pandas to read it

_INFERRED: dict[str, Dtype] = {
    "boolean": "boolean",
    "integer": "integer",
    "floating": "float",
    "mixed-integer-float": "float",
    "decimal": "float",
    "datetime": "datetime",
    "datetime64": "datetime",
    "date": "datetime",
}


def dtype_of(series: pd.Series) -> Dtype:
    """Logical type of ``series``: storage dtype first, value inference for ``object`` columns."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "string"
    if ptypes.is_bool_dtype(dtype):
        return "boolean"
    if ptypes.is_integer_dtype(dtype):
        return "integer"
    if ptypes.is_datetime64_any_dtype(dtype):
        return "datetime"
    if ptypes.is_numeric_dtype(dtype):
        return "float"
    if dtype == np.dtype(object):
        return _INFERRED.get(ptypes.infer_dtype(series, skipna=True), "string")
    return "string"


def is_numeric(dtype: Dtype) -> bool:
    """Whether a logical type has a numeric range (booleans do not)."""
    return dtype in ("integer", "float")


def float_values(series: pd.Series) -> np.ndarray:
    """The column as a numeric array, missing values as NaN (no copy for numpy numeric columns)."""
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iuf":
        return series.to_numpy()
    return series.to_numpy(dtype="float64", na_value=np.nan)


class ColumnFacts:
    """One column and its logical type; costly facts are computed once, on first use."""

    def __init__(self, series: pd.Series) -> None:
        self.series = series

    @cached_property
    def dtype(self) -> Dtype:
        """Logical type of the column."""
        return dtype_of(self.series)

    @cached_property
    def values(self) -> np.ndarray:
        """Numeric values, missing as NaN (only meaningful for numeric columns)."""
        return float_values(self.series)

    @cached_property
    def extremes(self) -> tuple[float, float, bool]:
        """``(min, max, has_nan)`` of the numeric values; min and max skip NaN, not ±inf."""
        values = self.values
        if not values.size:
            return np.nan, np.nan, False
        low, high = values.min(), values.max()
        if values.dtype.kind == "f" and np.isnan(low):  # min and max propagate NaN
            return np.fmin.reduce(values), np.fmax.reduce(values), True
        return low, high, False

    @cached_property
    def invalid(self) -> tuple[int, int]:
        """``(nulls, infinite)``: missing values, and ±inf values (invalid like nulls) in floats."""
        dtype = self.series.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "biu":
            return 0, 0  # numpy booleans and integers cannot hold a missing value
        if self.dtype != "float":
            return int(self.series.isna().sum()), 0
        low, high, has_nan = self.extremes
        if not has_nan and np.isfinite(low) and np.isfinite(high):
            return 0, 0
        values = self.values
        nulls = int(np.count_nonzero(np.isnan(values)))
        return nulls, int(values.size - nulls - np.count_nonzero(np.isfinite(values)))


def finite_or_none(value: object) -> float | None:
    """``value`` as a float, or ``None`` when it is missing, NaN or infinite."""
    if value is None or value is pd.NA:
        return None
    number = float(value)  # type: ignore[arg-type]  # any cell: float() refuses non-numbers
    return number if np.isfinite(number) else None
