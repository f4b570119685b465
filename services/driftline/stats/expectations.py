"""Validate a frame against expectations (declared, or inferred by ``stats.inference``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from driftline.stats.checks import check_column, check_row_count, check_target
from driftline.stats.dtypes import ColumnFacts, Dtype, dtype_of
from driftline.stats.inference import infer_expectations, merge_expectations
from driftline.stats.spec import CheckCode, CheckResult, ColumnExpectation, Expectations

__all__ = [
    "CheckCode",
    "CheckResult",
    "ColumnExpectation",
    "Dtype",
    "Expectations",
    "check_frame",
    "dtype_of",
    "infer_expectations",
    "merge_expectations",
]

MAX_WORKERS = 8
"""Most threads :func:`check_frame` uses by default (one per CPU up to this)."""
PARALLEL_MIN_ROWS = 50_000
"""Smaller frames are checked on the calling thread: a pool would cost more than it saves."""


def check_frame(
    df: pd.DataFrame, expectations: Expectations, *, workers: int | None = None
) -> list[CheckResult]:
    """Run every check ``expectations`` asks for on ``df``; passed and failed results alike."""
    present = _columns_by_name(df)
    rows = len(df)

    def one_column(expectation: ColumnExpectation) -> list[CheckResult]:
        column = present.get(expectation.name)
        results = [_presence(expectation, column is not None)]
        if column is not None:
            results += check_column(_series(df, column), expectation, rows)
        return results

    results = check_row_count(rows, expectations)
    if rows < PARALLEL_MIN_ROWS:
        workers = 1
    for column_results in _map(one_column, expectations.columns, workers):
        results += column_results
    if not expectations.allow_extra_columns:
        results += _extra_columns(present, expectations)
    if expectations.target is not None:
        column = present.get(expectations.target)
        target = None if column is None else ColumnFacts(_series(df, column))
        results += check_target(target, expectations)
    return results


def _map(
    check: Callable[[ColumnExpectation], list[CheckResult]],
    columns: list[ColumnExpectation],
    workers: int | None,
) -> list[list[CheckResult]]:
    # one column per thread: the numpy, pandas-hashtable and arrow kernels release the GIL
    workers = min(workers or os.cpu_count() or 1, MAX_WORKERS, len(columns))
    if workers <= 1:
        return [check(column) for column in columns]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="check_frame") as pool:
        return list(pool.map(check, columns))


def _presence(expectation: ColumnExpectation, present: bool) -> CheckResult:
    expected = "present" if expectation.required else "present or absent (optional)"
    return CheckResult(
        code="missing_column",
        column=expectation.name,
        expected=expected,
        observed="present" if present else "absent",
        passed=present or not expectation.required,
    )


def _extra_columns(present: dict[str, object], expectations: Expectations) -> list[CheckResult]:
    known = {column.name for column in expectations.columns} | {expectations.target}
    extra = [name for name in present if name not in known]
    if not extra:
        return [_unexpected(None, "none", passed=True)]
    return [_unexpected(name, "extra column", passed=False) for name in extra]


def _unexpected(column: str | None, observed: str, *, passed: bool) -> CheckResult:
    return CheckResult(
        code="unexpected_column",
        column=column,
        expected="only the columns with an expectation",
        observed=observed,
        passed=passed,
    )


def _columns_by_name(df: pd.DataFrame) -> dict[str, object]:
    """Column labels by their string form (labels need not be strings in a raw frame)."""
    return {str(label): label for label in df.columns}


def _series(df: pd.DataFrame, label: object) -> pd.Series:
    """One column; the first when a hostile frame repeats a label."""
    column = df[label]
    return column.iloc[:, 0] if isinstance(column, pd.DataFrame) else column
