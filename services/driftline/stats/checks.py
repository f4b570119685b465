"""One function per check: a column (or the frame's shape) in, :class:`CheckResult` out."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from driftline.stats.dtypes import ColumnFacts, is_numeric
from driftline.stats.spec import CheckResult, ColumnExpectation, Expectations

_EXAMPLES = 5
_TOLERATED = ("out_of_range", "unexpected_category")
"""Checks whose failures within ``tolerance`` of the rows only warn."""
TOLERANCE_SIGMAS = 3.0
"""Standard deviations of chance failures allowed above ``tolerance * rows``."""
_SOFT = ("null_rate", "out_of_range", "unexpected_category", "duplicate_values")
"""Checks an expectation's ``severity: warn`` applies to (type and presence always reject)."""


def check_row_count(rows: int, expectations: Expectations) -> list[CheckResult]:
    """``row_count``: the frame has between ``min_rows`` and ``max_rows`` rows."""
    low, high = expectations.min_rows, expectations.max_rows
    if low is None and high is None:
        return []
    passed = (low is None or rows >= low) and (high is None or rows <= high)
    expected = f"{'' if low is None else low} .. {'' if high is None else high} rows".strip()
    return [_result("row_count", None, expected, f"{rows} rows", passed)]


def check_column(series: pd.Series, expectation: ColumnExpectation, rows: int) -> list[CheckResult]:
    """Every check ``expectation`` asks for on one present column."""
    column = ColumnFacts(series)
    results = []
    if expectation.dtype is not None:
        results.append(check_dtype(column, expectation))
    if expectation.max_null_rate is not None:
        results.append(check_null_rate(column, expectation, rows))
    if expectation.min is not None or expectation.max is not None:
        results.append(check_range(column, expectation))
    if expectation.allowed is not None:
        results.append(check_categories(column, expectation))
    if expectation.unique:
        results.append(check_unique(column, expectation))
    return [graded(result, expectation, rows) for result in results]


def tolerated_rows(tolerance: float, rows: int) -> float:
    """Most failing rows that only warn: the tolerated share plus 3 standard deviations of
    the count a tolerated rate gives by chance (Poisson), so small versions are not rejected
    for one or two rows."""
    expected = tolerance * rows
    return expected + TOLERANCE_SIGMAS * math.sqrt(expected)


def graded(result: CheckResult, expectation: ColumnExpectation, rows: int) -> CheckResult:
    """``result`` with its severity: a warning within tolerance or for a ``warn`` rule."""
    if result.passed or result.code not in _SOFT:
        return result
    update: dict[str, object] = {}
    if result.code in _TOLERATED and rows and expectation.tolerance > 0:
        share = result.failing_rows / rows
        update["observed"] = (
            f"{result.observed}; {share:.3%} of rows, tolerance {expectation.tolerance:.3%}"
        )
        if result.failing_rows <= tolerated_rows(expectation.tolerance, rows):
            update["severity"] = "warn"
    if expectation.severity == "warn":
        update["severity"] = "warn"
    return result.model_copy(update=update) if update else result


def check_dtype(column: ColumnFacts, expectation: ColumnExpectation) -> CheckResult:
    """``dtype``: the logical type matches (integers pass as floats, whole floats as integers)."""
    dtype = column.dtype
    expected = expectation.dtype or dtype
    passed = dtype == expected or (expected == "float" and dtype == "integer")
    if expected == "integer" and dtype == "float":
        finite = column.values[np.isfinite(column.values)]
        passed = bool(np.all(finite == np.trunc(finite)))
    observed = f"{dtype} ({column.series.dtype})"
    return _result("dtype", expectation.name, expected, observed, passed)


def check_null_rate(column: ColumnFacts, expectation: ColumnExpectation, rows: int) -> CheckResult:
    """``null_rate``: the share of null or ±inf values is at most ``max_null_rate``."""
    limit = expectation.max_null_rate or 0.0
    nulls, infinite = column.invalid
    bad = nulls + infinite
    rate = bad / rows if rows else 0.0
    observed = f"{rate:.4g} ({nulls} null, {infinite} infinite)"
    return _result("null_rate", expectation.name, f"<= {limit:.4g}", observed, rate <= limit, bad)


def check_range(column: ColumnFacts, expectation: ColumnExpectation) -> CheckResult:
    """``out_of_range``: every finite value lies in ``[min, max]`` (``null_rate`` judges ±inf)."""
    low, high = expectation.min, expectation.max
    expected = f"{'-inf' if low is None else low} .. {'inf' if high is None else high}"
    if not is_numeric(column.dtype):
        count = int(column.series.notna().sum())
        observed = f"{column.dtype} values"
        return _result("out_of_range", expectation.name, expected, observed, False, count)
    smallest, largest, _ = column.extremes
    inside = (low is None or smallest >= low) and (high is None or largest <= high)
    bad = 0 if inside else _count_outside(column.values, low, high)
    observed = f"{bad} outside, observed {_finite_extremes(column.values)}" if bad else "all within"
    return _result("out_of_range", expectation.name, expected, observed, bad == 0, bad)


def _count_outside(values: np.ndarray, low: float | None, high: float | None) -> int:
    floats = values.dtype.kind == "f"
    bad = 0
    if low is not None:
        bad += int(np.count_nonzero(values < low))
        bad -= int(np.count_nonzero(values == -np.inf)) if floats else 0
    if high is not None:
        bad += int(np.count_nonzero(values > high))
        bad -= int(np.count_nonzero(values == np.inf)) if floats else 0
    return bad


def check_categories(column: ColumnFacts, expectation: ColumnExpectation) -> CheckResult:
    """``unexpected_category``: every non-null value, as a string, is in ``allowed``."""
    allowed = expectation.allowed or []
    # judge the distinct values, then count rows only when some are not allowed
    distinct = pd.Series(column.series.unique()).dropna()
    unexpected = distinct[~distinct.astype(str).isin(allowed).to_numpy()]
    bad = int(column.series.isin(unexpected.tolist()).sum()) if len(unexpected) else 0
    examples = ", ".join(repr(str(v)) for v in unexpected.iloc[:_EXAMPLES])
    observed = f"{bad} outside ({examples})" if bad else "all values allowed"
    expected = f"one of {len(allowed)} values: {_shorten(allowed)}"
    return _result("unexpected_category", expectation.name, expected, observed, bad == 0, bad)


def check_unique(column: ColumnFacts, expectation: ColumnExpectation) -> CheckResult:
    """``duplicate_values``: no non-null value occurs twice; counts every row in a duplicate."""
    bad = _dense_duplicates(column)
    if bad is None:
        series = column.series
        valid = series[series.notna()] if series.hasnans else series
        bad = int(valid.duplicated(keep=False).sum())
    observed = f"{bad} rows share a value" if bad else "all distinct"
    return _result("duplicate_values", expectation.name, "distinct values", observed, bad == 0, bad)


def _dense_duplicates(column: ColumnFacts) -> int | None:
    """Rows in duplicates by counting sort, for integers in a span of at most 2 x rows."""
    dtype = column.series.dtype
    if not (isinstance(dtype, np.dtype) and dtype.kind in "iu") or column.series.empty:
        return None
    low, high, _ = column.extremes
    if int(high) - int(low) > 2 * len(column.series):
        return None  # sparse keys: a hash table needs less memory than the counts
    counts = np.bincount((column.values - low).astype(np.intp, copy=False))
    return int(counts[counts > 1].sum())


def check_target(column: ColumnFacts | None, expectations: Expectations) -> list[CheckResult]:
    """``target_missing``, ``target_nulls`` and ``target_type`` for the target column."""
    name = expectations.target
    if column is None:
        return [_result("target_missing", name, "target column present", "absent", False)]
    invalid = sum(column.invalid)
    observed = f"{invalid} invalid"
    results = [
        _result("target_missing", name, "target column present", "present", True),
        _result("target_nulls", name, "no null or ±inf labels", observed, not invalid, invalid),
    ]
    if expectations.task is not None:
        results.append(_check_target_type(column, name, expectations.task))
    return results


def _check_target_type(column: ColumnFacts, name: str | None, task: str) -> CheckResult:
    dtype = column.dtype
    if task == "regression":
        return _result("target_type", name, "numeric labels", dtype, is_numeric(dtype))
    fractional = 0
    if dtype == "float":
        values = column.values
        fractional = int(np.count_nonzero(np.isfinite(values) & (values != np.trunc(values))))
    classes = int(column.series.nunique())
    passed = dtype != "datetime" and fractional == 0 and classes >= 2
    observed = f"{dtype}, {classes} classes, {fractional} fractional values"
    expected = "discrete labels with at least 2 classes"
    return _result("target_type", name, expected, observed, passed, fractional)


def _finite_extremes(values: np.ndarray) -> str:
    finite = values[np.isfinite(values)]
    return f"{finite.min()} .. {finite.max()}" if finite.size else "no finite values"


def _shorten(values: list[str], limit: int = 10) -> str:
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f", … (+{len(values) - limit})" if len(values) > limit else "")


def _result(
    code: str, column: str | None, expected: str, observed: str, passed: bool, failing: int = 0
) -> CheckResult:
    return CheckResult.model_validate(
        {
            "code": code,
            "column": column,
            "expected": expected,
            "observed": observed,
            "passed": passed,
            "failing_rows": 0 if passed else failing,
        }
    )
