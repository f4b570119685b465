"""An applied spec's expectations block becomes Expectations, or an error that never raises."""

from __future__ import annotations

from typing import Any

import pytest

from driftline.validation.specs import spec_record
from driftline_contracts.events.spec import ModelSpecApplied


def _applied(spec: dict[str, Any]) -> ModelSpecApplied:
    return ModelSpecApplied(
        model="churn",
        dataset="customers",
        task="classification",
        target="label",
        trainer="sklearn.random_forest",
        spec_hash="c" * 64,
        spec=spec,
    )


def test_spec_without_expectations() -> None:
    record = spec_record(_applied({"features": ["age"]}))
    assert record.expectations is None
    assert record.error is None
    assert (record.model, record.dataset, record.target) == ("churn", "customers", "label")


def test_expectations_take_the_spec_target_and_task() -> None:
    record = spec_record(_applied({"expectations": {"columns": [{"name": "age", "min": 0}]}}))
    assert record.error is None
    assert record.expectations is not None
    assert record.expectations.target == "label"
    assert record.expectations.task == "classification"


def test_a_list_is_the_columns() -> None:
    record = spec_record(_applied({"expectations": [{"name": "age", "dtype": "integer"}]}))
    assert record.expectations is not None
    assert [c.name for c in record.expectations.columns] == ["age"]


@pytest.mark.parametrize(
    "block",
    [
        "not a mapping",
        {"columns": [{"name": "age", "min": 10, "max": 1}]},
        {"columns": [{"dtype": "integer"}]},
        {"min_rows": -1},
    ],
)
def test_invalid_expectations_become_an_error(block: Any) -> None:
    record = spec_record(_applied({"expectations": block}))
    assert record.expectations is None
    assert record.error
    assert len(record.error) <= 500


def test_a_column_may_set_its_tolerance_and_severity() -> None:
    block = [{"name": "age", "min": 0, "tolerance": 0.02}, {"name": "plan", "severity": "warn"}]
    record = spec_record(_applied({"expectations": block}))
    assert record.error is None
    assert record.expectations is not None
    age, plan = record.expectations.columns
    assert (age.tolerance, age.severity, plan.tolerance, plan.severity) == (
        0.02, "reject", 0.0, "warn",
    )  # fmt: skip


@pytest.mark.parametrize(
    "column",
    [
        {"name": "age", "tolerance": 1.5},
        {"name": "age", "tolerance": -0.1},
        {"name": "age", "severity": "ignore"},
    ],
)
def test_a_bad_tolerance_or_severity_is_a_spec_error(column: dict[str, Any]) -> None:
    record = spec_record(_applied({"expectations": [column]}))
    assert record.expectations is None
    assert record.error is not None
    assert "columns.0." in record.error
