"""check_frame and infer_expectations: each check fires on bad data and only on bad data."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from driftline.stats.expectations import (
    CheckResult,
    ColumnExpectation,
    Expectations,
    check_frame,
    dtype_of,
    infer_expectations,
)
from tests.unit.stats.frames import clean_frame, strict_expectations


def _failed(results: list[CheckResult]) -> dict[tuple[str, str | None], int]:
    return {(r.code, r.column): r.failing_rows for r in results if not r.passed}


def _set(column: str, rows: slice, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def mutate(df: pd.DataFrame) -> pd.DataFrame:
        values = df[column].astype(object) if isinstance(value, str) else df[column].astype(float)
        values.iloc[rows] = value
        return df.assign(**{column: values})

    return mutate


NEGATIVE_CONTROLS = {
    "missing_column": (lambda df: df.drop(columns="plan"), {("missing_column", "plan"): 0}),
    "unexpected_column": (lambda df: df.assign(extra=1), {("unexpected_column", "extra"): 0}),
    "dtype": (lambda df: df.assign(income=df.income.astype(str)), {("dtype", "income"): 0}),
    "null_rate": (_set("income", slice(0, 60), np.nan), {("null_rate", "income"): 60}),
    "null_rate_inf": (_set("income", slice(0, 30), np.inf), {("null_rate", "income"): 30}),
    "out_of_range": (_set("age", slice(0, 3), 200), {("out_of_range", "age"): 3}),
    "unexpected_category": (
        _set("plan", slice(5, 7), "gold"),
        {("unexpected_category", "plan"): 2},
    ),
    "duplicate_values": (_set("id", slice(1, 2), 0), {("duplicate_values", "id"): 2}),
    "row_count": (lambda df: df.head(50), {("row_count", None): 0}),
    "target_missing": (lambda df: df.drop(columns="churned"), {("target_missing", "churned"): 0}),
    "target_type": (_set("churned", slice(0, 4), 0.5), {("target_type", "churned"): 4}),
    "target_type_one_class": (lambda df: df.assign(churned=1), {("target_type", "churned"): 0}),
    "target_nulls": (_set("churned", slice(0, 9), np.nan), {("target_nulls", "churned"): 9}),
}


def test_the_clean_frame_passes_every_check() -> None:
    results = check_frame(clean_frame(), strict_expectations())
    assert _failed(results) == {}
    codes = {r.code for r in results}
    assert codes >= {"missing_column", "dtype", "null_rate", "out_of_range", "row_count"}
    assert codes >= {"unexpected_category", "duplicate_values", "unexpected_column"}
    assert codes >= {"target_missing", "target_type", "target_nulls"}


@pytest.mark.parametrize("case", NEGATIVE_CONTROLS)
def test_a_crafted_defect_fails_exactly_its_check(case: str) -> None:
    mutate, expected = NEGATIVE_CONTROLS[case]
    assert _failed(check_frame(mutate(clean_frame()), strict_expectations())) == expected


def test_threads_do_not_change_the_results() -> None:
    df = NEGATIVE_CONTROLS["out_of_range"][0](clean_frame(rows=60_000))
    expectations = strict_expectations()
    assert check_frame(df, expectations, workers=4) == check_frame(df, expectations, workers=1)


def test_integers_pass_as_floats_and_whole_floats_as_integers() -> None:
    df = pd.DataFrame({"n": [1.0, 2.0, np.nan], "f": [1, 2, 3], "x": [1.5, 2.0, 3.0]})
    columns = [ColumnExpectation(name=c, dtype="integer") for c in ("n", "x")]
    results = check_frame(df, Expectations(columns=[*columns, {"name": "f", "dtype": "float"}]))
    assert _failed(results) == {("dtype", "x"): 0}


def test_an_optional_missing_column_passes_and_runs_no_other_check() -> None:
    optional = ColumnExpectation(name="coupon", required=False, dtype="string", unique=True)
    results = check_frame(clean_frame(), Expectations(columns=[optional]))
    assert [(r.code, r.passed) for r in results] == [("missing_column", True)]


def test_regression_targets_must_be_numeric() -> None:
    df = clean_frame().assign(churned=lambda d: d.plan)
    expectations = Expectations(target="churned", task="regression")
    assert _failed(check_frame(df, expectations)) == {("target_type", "churned"): 0}


def test_inferred_expectations_pass_the_frame_they_came_from() -> None:
    df = clean_frame()
    df.loc[::10, "income"] = np.nan
    df.loc[3, "income"] = -np.inf
    expectations = infer_expectations(df, target="churned", task="classification")
    results = check_frame(df, expectations)
    assert _failed(results) == {}
    assert len(results) > 20


def test_inference_records_types_ranges_null_rates_and_category_sets() -> None:
    df = clean_frame().assign(name=lambda d: [f"n{i}" for i in range(len(d))])
    df.loc[:19, "income"] = np.nan
    inferred = {c.name: c for c in infer_expectations(df, category_limit=5).columns}
    assert inferred["age"].dtype == "integer"
    # the range is wider than the data (quantiles widened by the spread), never narrower
    assert inferred["age"].min < df.age.min()
    assert inferred["age"].max > df.age.max()
    assert inferred["age"].tolerance == 0.01
    assert 0.1 < inferred["income"].max_null_rate <= 0.17  # 1.5 x 10% + 2%
    assert inferred["id"].min is None  # all distinct integers: a key, no range
    assert inferred["plan"].allowed == ["basic", "pro"]
    assert inferred["name"].allowed is None  # more than category_limit distinct values
    assert inferred["active"].dtype == "boolean"


def test_a_shifted_frame_reports_the_drifted_columns() -> None:
    expectations = infer_expectations(clean_frame(), target="churned", task="classification")
    shifted = clean_frame(seed=8).assign(age=lambda d: d.age * 10)  # a unit change
    shifted.loc[:99, "income"] = np.nan
    shifted.loc[0, "plan"] = "enterprise"
    failed = _failed(check_frame(shifted, expectations))
    assert failed == {
        ("out_of_range", "age"): len(shifted),
        ("null_rate", "income"): 100,
        ("unexpected_category", "plan"): 1,
    }


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        (pd.Series([1, 2]), "integer"),
        (pd.Series([1, None], dtype="Int64"), "integer"),
        (pd.Series([1.5, None]), "float"),
        (pd.Series([True, None], dtype="boolean"), "boolean"),
        (pd.Series(["a", None]), "string"),
        (pd.Series(["a"], dtype="category"), "string"),
        (pd.Series([True, False], dtype=object), "boolean"),
        (pd.Series([None, None], dtype=object), "string"),
        (pd.Series(pd.to_datetime(["2024-01-01"], utc=True)), "datetime"),
    ],
)
def test_logical_types_do_not_depend_on_storage(values: pd.Series, dtype: str) -> None:
    assert dtype_of(values) == dtype


@pytest.mark.parametrize(
    "bad",
    [
        {"columns": [{"name": "x", "min": 2, "max": 1}]},
        {"columns": [{"name": "x"}, {"name": "x"}]},
        {"columns": [{"name": "x", "max_null_rate": 1.5}]},
        {"columns": [{"name": "x", "nullable": True}]},
        {"min_rows": 10, "max_rows": 5},
        {"task": "classification"},
    ],
)
def test_inconsistent_expectations_are_rejected(bad: dict) -> None:
    with pytest.raises(ValidationError):
        Expectations.model_validate(bad)


def test_a_column_never_seen_negative_gets_no_negative_bound() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"area": rng.lognormal(6, 0.5, 500), "loss": -rng.lognormal(1, 1, 500)})
    inferred = {c.name: c for c in infer_expectations(df).columns}
    assert inferred["area"].min == 0.0
    assert inferred["loss"].max == 0.0
    later = df.copy()
    later.loc[:19, "area"] = -1.0  # 4% of the rows: impossible areas
    failed = {(r.code, r.column): r.severity for r in check_frame(later, infer_expectations(df))}
    assert failed[("out_of_range", "area")] == "reject"


def test_a_declared_tolerance_and_severity_turn_failures_into_warnings() -> None:
    df = clean_frame(rows=1000)
    df.loc[:4, "age"] = 500  # 0.5% of the rows
    df.loc[:1, "plan"] = "gold"
    strict = Expectations.model_validate({"columns": [{"name": "age", "max": 120}]})
    tolerant = Expectations.model_validate(
        {"columns": [{"name": "age", "max": 120, "tolerance": 0.01},
                     {"name": "plan", "allowed": ["basic", "pro"], "severity": "warn"}]}
    )  # fmt: skip
    (strict_range,) = [r for r in check_frame(df, strict) if r.code == "out_of_range"]
    assert strict_range.severity == "reject"  # no tolerance: one row is enough
    failed = {r.code: r for r in check_frame(df, tolerant) if not r.passed}
    assert {code: r.severity for code, r in failed.items()} == {
        "out_of_range": "warn",
        "unexpected_category": "warn",
    }
    assert failed["out_of_range"].failing_rows == 5
    df.loc[:99, "age"] = 500  # 10%: beyond the tolerance
    (range_check,) = [r for r in check_frame(df, tolerant) if r.code == "out_of_range"]
    assert range_check.severity == "reject"
