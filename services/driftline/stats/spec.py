"""The expectations a dataset is held to, and the result of checking one."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, model_validator

from driftline_contracts.values import Value

Dtype = Literal["integer", "float", "boolean", "string", "datetime"]
"""Logical type of a column, independent of how pandas happens to store it."""

Severity = Literal["reject", "warn"]
"""How a failed check counts: ``reject`` blocks the version, ``warn`` is carried as a warning."""

CheckCode = Literal[
    "missing_column",
    "unexpected_column",
    "dtype",
    "null_rate",
    "out_of_range",
    "unexpected_category",
    "duplicate_values",
    "row_count",
    "target_missing",
    "target_type",
    "target_nulls",
]
"""Machine-readable code of a check; see docs/expectations.md for each one."""


class ColumnExpectation(Value):
    """What one column must look like."""

    name: str = Field(min_length=1, description="Column name, exactly as in the data.")
    dtype: Dtype | None = Field(None, description="Logical type; null accepts any type.")
    required: bool = Field(True, description="Whether a missing column fails validation.")
    max_null_rate: float | None = Field(
        None, ge=0, le=1, description="Largest share of null or ±inf values allowed (0..1)."
    )
    min: float | None = Field(None, description="Smallest value allowed (numeric columns).")
    max: float | None = Field(None, description="Largest value allowed (numeric columns).")
    allowed: list[str] | None = Field(
        None, description="Allowed categories (string columns); values compare as strings."
    )
    unique: bool = Field(False, description="Whether non-null values must all be distinct.")
    tolerance: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of rows that may fall outside min/max or allowed and only warn "
        "(0: any such row rejects).",
    )
    severity: Severity = Field(
        "reject", description="reject: a failed value check blocks the version; warn: it warns."
    )

    @model_validator(mode="after")
    def _ordered_range(self) -> ColumnExpectation:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"column {self.name!r}: min {self.min} is above max {self.max}")
        return self


class Expectations(Value):
    """Everything a dataset version is checked against before it is accepted."""

    columns: list[ColumnExpectation] = Field(
        default_factory=list, description="Per-column expectations, one entry per column."
    )
    min_rows: NonNegativeInt | None = Field(None, description="Fewest rows allowed.")
    max_rows: NonNegativeInt | None = Field(None, description="Most rows allowed.")
    target: str | None = Field(None, description="Target (label) column, if the data trains one.")
    task: Literal["classification", "regression"] | None = Field(
        None, description="Learning task; decides which target types are acceptable."
    )
    allow_extra_columns: bool = Field(
        True, description="Whether columns without an expectation are accepted."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Expectations:
        names = [column.name for column in self.columns]
        if len(names) != len(set(names)):
            raise ValueError("each column may have only one expectation")
        low, high = self.min_rows, self.max_rows
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_rows {self.min_rows} is above max_rows {self.max_rows}")
        if self.task is not None and self.target is None:
            raise ValueError("a task needs a target column")
        return self


class CheckResult(Value):
    """Outcome of one check on one column (or on the whole frame when ``column`` is null)."""

    code: CheckCode = Field(description="What was checked, e.g. null_rate or out_of_range.")
    column: str | None = Field(description="Column checked; null for frame-level checks.")
    expected: str = Field(description="What the expectation asks for, in words.")
    observed: str = Field(description="What the data shows, in words.")
    passed: bool = Field(description="Whether the data met the expectation.")
    failing_rows: NonNegativeInt = Field(0, description="Rows that break the expectation.")
    severity: Severity = Field(
        "reject", description="reject: a failure blocks the version; warn: it is only reported."
    )
