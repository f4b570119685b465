"""The input signature of a trained model (pure): columns, types, category domains, nulls."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from driftline_contracts.signature import (
    MAX_CATEGORIES,
    ColumnSignature,
    ColumnType,
    InputSignature,
)

MAX_CATEGORY_LENGTH = 256


def column_type(series: pd.Series) -> ColumnType:
    """How deployment should expect this column's values: a JSON number, integer, bool or
    string (dates and other objects arrive as strings)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    return "string"


def categories(series: pd.Series) -> list[str] | None:
    """The distinct non-empty values of a string column, sorted; None past the limits."""
    values = series.dropna().astype(str).unique()
    if len(values) > MAX_CATEGORIES or any(len(v) > MAX_CATEGORY_LENGTH for v in values):
        return None
    return sorted(values)


def input_signature(frame: pd.DataFrame, features: Sequence[str]) -> InputSignature:
    """The signature of a model trained on ``frame[features]``."""
    columns = []
    for name in features:
        series = frame[name]
        kind = column_type(series)
        columns.append(
            ColumnSignature(
                name=name,
                dtype=kind,
                nullable=bool(series.isna().any()),
                categories=categories(series) if kind == "string" else None,
            )
        )
    return InputSignature(columns=columns)
