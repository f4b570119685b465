"""Dataset validation: Driftline's check_frame vs pandera, same checks on 1M rows x 25 columns."""

from __future__ import annotations

import tracemalloc
from collections import Counter
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from bench import gx_peer
from driftline.stats.expectations import (
    CheckResult,
    ColumnExpectation,
    Expectations,
    check_frame,
)

ROWS = 1_000_000
MIN_ROWS = 1_000
CATEGORIES = {
    f"c{i}": [f"cat{i}_{j}" for j in range(k)] for i, k in enumerate((3, 5, 8, 12, 20, 30))
}
NULLABLE = ("f6", "f7")  # up to 5% nulls allowed; every other column must be complete


def make_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """1 id, 8 float, 6 int, 6 string-category and 4 bool columns, all meeting the checks."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {"id": rng.permutation(rows)}
    data |= {f"f{i}": rng.uniform(0, 100, rows) for i in range(6)}
    for name in NULLABLE:
        values = rng.normal(0, 1, rows)
        values[rng.random(rows) < 0.02] = np.nan
        data[name] = values
    data |= {f"i{i}": rng.integers(0, 1000, rows) for i in range(6)}
    for name, labels in CATEGORIES.items():
        codes = rng.integers(0, len(labels), rows)
        data[name] = pd.Series(pa.array(labels, pa.large_string()).take(codes), dtype="str")
    data |= {f"b{i}": rng.random(rows) < 0.5 for i in range(4)}
    return pd.DataFrame(data)


def expectations() -> Expectations:
    """The checks, as Driftline expectations."""
    columns = [ColumnExpectation(name="id", dtype="integer", max_null_rate=0, unique=True)]
    columns += [
        ColumnExpectation(name=f"f{i}", dtype="float", max_null_rate=0, min=0, max=100)
        for i in range(6)
    ]
    columns += [
        ColumnExpectation(name=name, dtype="float", max_null_rate=0.05, min=-10, max=10)
        for name in NULLABLE
    ]
    columns += [
        ColumnExpectation(name=f"i{i}", dtype="integer", max_null_rate=0, min=0, max=999)
        for i in range(6)
    ]
    columns += [
        ColumnExpectation(name=name, dtype="string", max_null_rate=0, allowed=labels)
        for name, labels in CATEGORIES.items()
    ]
    columns += [ColumnExpectation(name=f"b{i}", dtype="boolean", max_null_rate=0) for i in range(4)]
    return Expectations(columns=columns, min_rows=MIN_ROWS)


def pandera_schema(string_dtype: object) -> object:
    """The same checks as a pandera DataFrameSchema."""
    import pandera.pandas as pa

    columns = {"id": pa.Column("int64", unique=True, report_duplicates="all")}
    columns |= {f"f{i}": pa.Column("float64", pa.Check.in_range(0, 100)) for i in range(6)}
    columns |= {
        name: pa.Column("float64", pa.Check.in_range(-10, 10), nullable=True) for name in NULLABLE
    }
    columns |= {f"i{i}": pa.Column("int64", pa.Check.in_range(0, 999)) for i in range(6)}
    columns |= {
        name: pa.Column(string_dtype, pa.Check.isin(labels)) for name, labels in CATEGORIES.items()
    }
    columns |= {f"b{i}": pa.Column(bool) for i in range(4)}
    checks = [pa.Check(lambda df: len(df) >= MIN_ROWS, name="row_count")]
    checks += [
        pa.Check(lambda df, name=name: df[name].isna().mean() <= 0.05, name=f"null_rate:{name}")
        for name in NULLABLE
    ]
    return pa.DataFrameSchema(columns, checks=checks)


def pandera_validate(schema: object, df: pd.DataFrame) -> object:
    """Validate lazily, returning the failure cases (None when the frame passes)."""
    import pandera.pandas as pa

    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return errors.failure_cases
    return None


PANDERA_CODES = {
    "not_nullable": "null_rate",
    "field_uniqueness": "duplicate_values",
    "in_range": "out_of_range",
    "isin": "unexpected_category",
    "dtype": "dtype",
    "column_in_dataframe": "missing_column",
}


def _pandera_failures(cases: pd.DataFrame | None) -> dict[tuple[str, str | None], int]:
    if cases is None:
        return {}
    keys = [
        (PANDERA_CODES.get(check.split("(")[0], check), column)
        for check, column in zip(cases["check"], cases["column"], strict=True)
    ]
    return dict(Counter(keys))


def _driftline_failures(results: list[CheckResult]) -> dict[tuple[str, str | None], int]:
    return {(r.code, r.column): r.failing_rows for r in results if not r.passed}


def _defect_frame() -> pd.DataFrame:
    """100k rows with injected nulls, an out-of-set value, a duplicate id, out-of-range values."""
    df = make_frame(100_000, seed=1)
    df.loc[:49, "f0"] = np.nan
    df.loc[100:106, "c0"] = "not-a-category"
    df.loc[11, "id"] = df.loc[10, "id"]
    df.loc[5:8, "i0"] = 5000
    return df


def negative_control(schema: object) -> None:
    """Both validators report the same defects, row for row, on a frame with injected ones."""
    df = _defect_frame()
    expected = {
        ("null_rate", "f0"): 50,
        ("unexpected_category", "c0"): 7,
        ("duplicate_values", "id"): 2,
        ("out_of_range", "i0"): 4,
    }
    assert _driftline_failures(check_frame(df, expectations())) == expected
    assert _pandera_failures(pandera_validate(schema, df)) == expected
    clean = make_frame(10_000, seed=2)
    assert _driftline_failures(check_frame(clean, expectations())) == {}
    assert _pandera_failures(pandera_validate(schema, clean)) == {}


def peak_extra_memory(df: pd.DataFrame, checks: Expectations) -> int:
    """Peak bytes allocated while checking (numpy and Python heap, via tracemalloc)."""
    tracemalloc.start()
    try:
        check_frame(df, checks)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def cases() -> dict[str, dict[str, Callable[[], object]]]:
    """Benchmark name → {implementation name → zero-argument callable}."""
    df = make_frame(ROWS)
    checks = expectations()
    schema = pandera_schema(df["c0"].dtype)
    negative_control(schema)
    assert pandera_validate(schema, df) is None
    frame_bytes = int(df.memory_usage(deep=True).sum())
    peak = peak_extra_memory(df, checks)
    title = (
        f"validate 1M x 25 (check_frame peak extra memory {peak / 2**20:.0f} MiB, "
        f"{peak / frame_bytes:.0%} of the {frame_bytes / 2**20:.0f} MiB frame)"
    )
    impls: dict[str, Callable[[], object]] = {
        "driftline.stats.check_frame": lambda: check_frame(df, checks),
        "driftline.stats.check_frame (workers=1)": lambda: check_frame(df, checks, workers=1),
        "pandera (DataFrameSchema.validate, lazy=True)": lambda: pandera_validate(schema, df),
    }
    if gx_peer.available():
        run_gx = gx_peer.validator(df, CATEGORIES, NULLABLE, MIN_ROWS)
        assert run_gx().success, "Great Expectations must accept the clean frame"
        defects = _defect_frame()
        assert gx_peer.failures(run_gx(defects)) == _driftline_failures(
            check_frame(defects, checks)
        ), "GX and Driftline must report the same failures"
        impls["Great Expectations 1.x (ephemeral context, same expectations)"] = run_gx
    return {title: impls}
