"""Data-quality drift of a window: null rate, values out of the reference range, new categories."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from driftline.stats.dtypes import float_values
from driftline.stats.profile import OTHER, ColumnProfile, DatasetProfile
from driftline_contracts.values import FiniteFloat, Value

Check = Literal["null_rate", "out_of_range", "unseen_category"]


class QualityFinding(Value):
    """One data-quality measure of one feature, reference vs current."""

    feature: str = Field(description="Feature (column) name.")
    check: Check = Field(description="What was measured.")
    reference: FiniteFloat = Field(description="Share in the reference data.")
    current: FiniteFloat = Field(description="Share in the window.")
    flagged: bool = Field(description="Current exceeds reference by more than the tolerance.")


def quality_findings(
    reference: DatasetProfile, current: pd.DataFrame, tolerance: float
) -> list[QualityFinding]:
    """Quality measures of every reference feature (a column missing from the window is null)."""
    found: list[QualityFinding] = []
    for column in reference.columns:
        if column.name in current.columns:
            series = current[column.name]
        else:
            series = pd.Series([None] * len(current), dtype=object)
        found.extend(_column(column, series, reference.rows, tolerance))
    return found


def _column(
    column: ColumnProfile, series: pd.Series, rows: int, tolerance: float
) -> list[QualityFinding]:
    size = max(len(series), 1)
    null_rate = float(series.isna().sum()) / size
    measures: list[tuple[Check, float, float]] = [
        ("null_rate", column.nulls / max(rows, 1), null_rate)
    ]
    if column.min is not None and column.max is not None and column.sample:
        values = float_values(pd.to_numeric(series, errors="coerce")).astype("float64")
        values = values[np.isfinite(values)]
        outside = float(((values < column.min) | (values > column.max)).sum()) / size
        measures.append(("out_of_range", 0.0, outside))
    elif column.categories and OTHER not in column.categories:
        # with a top-k cut (OTHER present) unseen values cannot be told from rare ones
        seen = series.dropna().astype(str)
        unseen = float((~seen.isin(list(column.categories))).sum()) / size
        measures.append(("unseen_category", 0.0, unseen))
    return [
        QualityFinding(
            feature=column.name,
            check=check,
            reference=ref,
            current=cur,
            flagged=cur - ref > tolerance,
        )
        for check, ref, cur in measures
    ]
