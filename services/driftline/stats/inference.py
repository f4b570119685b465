"""Expectations learnt from accepted data: robust ranges, category domains, null rates, types.

TFDV's model: a schema inferred from accepted data, later data checked against it, and the
schema grown with every accepted version. Ranges come from robust quantiles widened by the
spread, not from the extremes, and value rules tolerate a small share of failing rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd

from driftline.stats.dtypes import ColumnFacts, Dtype, is_numeric
from driftline.stats.spec import ColumnExpectation, Expectations

RANGE_QUANTILES = (0.005, 0.995)
"""Quantiles an inferred range starts from (the extremes are what outliers move)."""
RANGE_WIDENING = 1.0
"""k: the range is [q0.5% - k*spread, q99.5% + k*spread]; see docs/validation.md for why 1."""
VALUE_TOLERANCE = 0.01
"""Share of rows that may fall outside an inferred range or domain and only warn."""
NULL_RATE_FACTOR = 1.5
NULL_RATE_SLACK = 0.02
"""Inferred ``max_null_rate`` is ``1.5 * observed + 0.02`` (sampling noise plus slack)."""
MIN_KEY_ROWS = 20
"""Integer columns with this many values, all distinct, are keys: no range is inferred."""


def infer_expectations(
    df: pd.DataFrame,
    *,
    target: str | None = None,
    task: Literal["classification", "regression"] | None = None,
    category_limit: int = 50,
) -> Expectations:
    """TFDV-style expectations from an accepted version; row bounds are left open."""
    rows = len(df)
    columns: list[ColumnExpectation] = []
    for position, label in enumerate(df.columns):
        name = str(label)
        if name in {c.name for c in columns}:
            continue  # a hostile frame may repeat a label: the first column stands
        columns.append(infer_column(name, df.iloc[:, position], rows, category_limit))
    return Expectations.model_validate({"columns": columns, "target": target, "task": task})


def infer_column(name: str, series: pd.Series, rows: int, limit: int = 50) -> ColumnExpectation:
    """Type, null rate and (for numbers and strings) a tolerant range or domain of one column."""
    column = ColumnFacts(series)
    dtype = column.dtype
    nulls, infinite = column.invalid
    rate = (nulls + infinite) / rows if rows else 0.0
    limit_rate = NULL_RATE_FACTOR * rate + NULL_RATE_SLACK
    fields: dict[str, object] = {
        "name": name,
        "dtype": dtype,
        "max_null_rate": min(1.0, math.ceil(round(limit_rate * 1e4, 6)) / 1e4),
    }
    if is_numeric(dtype):
        fields |= robust_range(column.values, dtype)
    elif dtype == "string":
        uniques = series.dropna().unique()
        if len(uniques) <= limit:
            fields |= {"allowed": sorted(str(v) for v in uniques), "tolerance": VALUE_TOLERANCE}
    return ColumnExpectation.model_validate(fields)


def robust_range(values: np.ndarray, dtype: Dtype, k: float = RANGE_WIDENING) -> dict:
    """``min``, ``max`` and ``tolerance`` from quantiles widened by k spreads, never across
    zero when no value crossed it; {} for keys."""
    finite = values[np.isfinite(values)]
    if not finite.size or _is_key(finite, dtype):
        return {}
    low, q25, q75, high = np.quantile(finite, [RANGE_QUANTILES[0], 0.25, 0.75, RANGE_QUANTILES[1]])
    with np.errstate(over="ignore", invalid="ignore"):
        # a zero IQR (mostly one value) must not pin the range to the quantiles themselves
        spread = max(float(q75 - q25), float(high - low) / 4)
        lower, upper = float(low) - k * spread, float(high) + k * spread
    # near float64's limits the widening overflows: the observed extremes bound it instead
    lower = lower if math.isfinite(lower) else float(finite.min())
    upper = upper if math.isfinite(upper) else float(finite.max())
    # a column never seen below (above) zero keeps its sign: -1 in an area is an error
    if finite.min() >= 0:
        lower = max(lower, 0.0)
    if finite.max() <= 0:
        upper = min(upper, 0.0)
    if dtype == "integer":
        lower, upper = math.floor(lower), math.ceil(upper)
    return {"min": lower, "max": upper, "tolerance": VALUE_TOLERANCE}


def _is_key(finite: np.ndarray, dtype: Dtype) -> bool:
    """An integer column whose values are all distinct (an id): its next slice lies elsewhere."""
    return dtype == "integer" and finite.size >= MIN_KEY_ROWS and pd.Series(finite).is_unique


def without_value_rules(expectations: Expectations) -> Expectations:
    """``expectations`` without ranges and domains: what the version they came from is held
    to (its own tails would only warn about themselves)."""
    columns = [
        c.model_copy(update={"min": None, "max": None, "allowed": None})
        for c in expectations.columns
    ]
    return expectations.model_copy(update={"columns": columns})


def merge_expectations(
    old: Expectations, new: Expectations, *, category_limit: int = 50
) -> Expectations:
    """Expectations covering both: ranges and domains widen, null limits rise, types unify."""
    learnt = {c.name: c for c in new.columns}
    columns = [
        _merge_column(c, learnt[c.name], category_limit) if c.name in learnt else c
        for c in old.columns
    ]
    known = {c.name for c in old.columns}
    columns += [c for c in new.columns if c.name not in known]
    return old.model_copy(
        update={
            "columns": columns,
            "target": old.target or new.target,
            "task": old.task or new.task,
        }
    )


def _merge_column(old: ColumnExpectation, new: ColumnExpectation, limit: int) -> ColumnExpectation:
    dtype = old.dtype if old.dtype == new.dtype else new.dtype
    if {old.dtype, new.dtype} == {"integer", "float"}:
        dtype = "float"
    allowed = None
    if old.allowed is not None and new.allowed is not None:
        union = sorted(set(old.allowed) | set(new.allowed))
        allowed = union if len(union) <= limit else None
    numeric = dtype is not None and is_numeric(dtype)
    return old.model_copy(
        update={
            "dtype": dtype,
            "max_null_rate": _widest(old.max_null_rate, new.max_null_rate, max),
            "min": _widest(old.min, new.min, min) if numeric else None,
            "max": _widest(old.max, new.max, max) if numeric else None,
            "allowed": allowed,
            "tolerance": max(old.tolerance, new.tolerance),
        }
    )


def _widest(
    a: float | None, b: float | None, pick: Callable[[float, float], float]
) -> float | None:
    """The wider of two bounds; a missing bound is unbounded and wins."""
    return None if a is None or b is None else pick(a, b)
