"""The validation benchmark's checks as a Great Expectations suite (peer, when GX is installed).

Install with ``pip install great_expectations`` (or the ``bench`` extra); without it the
benchmark measures Driftline and pandera only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd


def available() -> bool:
    """Whether Great Expectations can be imported here."""
    try:
        import great_expectations  # noqa: F401
    except ImportError:
        return False
    return True


def _expectations(
    categories: dict[str, list[str]], nullable: tuple[str, ...], min_rows: int
) -> list[Any]:
    import great_expectations.expectations as gxe

    found: list[Any] = [
        gxe.ExpectTableRowCountToBeBetween(min_value=min_rows),
        gxe.ExpectColumnValuesToBeUnique(column="id"),
    ]
    complete = [
        "id",
        *(f"f{i}" for i in range(6)),
        *(f"i{i}" for i in range(6)),
        *categories,
        *(f"b{i}" for i in range(4)),
    ]
    found += [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in complete]
    found += [gxe.ExpectColumnValuesToNotBeNull(column=c, mostly=0.95) for c in nullable]
    found += [
        gxe.ExpectColumnValuesToBeBetween(column=f"f{i}", min_value=0, max_value=100)
        for i in range(6)
    ]
    found += [
        gxe.ExpectColumnValuesToBeBetween(column=c, min_value=-10, max_value=10) for c in nullable
    ]
    found += [
        gxe.ExpectColumnValuesToBeBetween(column=f"i{i}", min_value=0, max_value=999)
        for i in range(6)
    ]
    found += [
        gxe.ExpectColumnValuesToBeInSet(column=c, value_set=labels)
        for c, labels in categories.items()
    ]
    return found


def validator(
    df: pd.DataFrame, categories: dict[str, list[str]], nullable: tuple[str, ...], min_rows: int
) -> Callable[[], bool]:
    """A zero-argument callable running the suite on ``df``; returns whether it passed."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("bench").add_dataframe_asset(name="frame")
    batch_definition = asset.add_batch_definition_whole_dataframe("all")
    suite = context.suites.add(gx.ExpectationSuite(name="bench"))
    for expectation in _expectations(categories, nullable, min_rows):
        suite.add_expectation(expectation)

    def run(frame: pd.DataFrame | None = None) -> Any:
        batch = batch_definition.get_batch(
            batch_parameters={"dataframe": df if frame is None else frame}
        )
        return batch.validate(suite)

    return run


_GX_CODES = {
    "expect_column_values_to_not_be_null": "null_rate",
    "expect_column_values_to_be_in_set": "unexpected_category",
    "expect_column_values_to_be_unique": "duplicate_values",
    "expect_column_values_to_be_between": "out_of_range",
}


def failures(result: Any) -> dict[tuple[str, str | None], int]:
    """Failed expectations as (Driftline check code, column) → failing rows."""
    found: dict[tuple[str, str | None], int] = {}
    for item in result.results:
        if item.success:
            continue
        config = item.expectation_config
        code = _GX_CODES.get(config.type, config.type)
        found[(code, config.kwargs.get("column"))] = int(item.result.get("unexpected_count", 0))
    return found
