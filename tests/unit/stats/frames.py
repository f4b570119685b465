"""A small clean frame and the expectations it meets, for the stats tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftline.stats.expectations import ColumnExpectation, Expectations

ROWS = 200


def clean_frame(rows: int = ROWS, seed: int = 7) -> pd.DataFrame:
    """A churn-like frame with an id, numbers, a category, a flag and a binary target."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(rows),
            "age": rng.integers(18, 90, rows),
            "income": rng.normal(50_000, 10_000, rows),
            "plan": rng.choice(["basic", "pro"], rows),
            "active": rng.random(rows) < 0.5,
            "churned": np.arange(rows) % 2,
        }
    )


def strict_expectations() -> Expectations:
    """Expectations the clean frame meets, exercising every check code."""
    return Expectations(
        columns=[
            ColumnExpectation(name="id", dtype="integer", unique=True, max_null_rate=0),
            ColumnExpectation(name="age", dtype="integer", min=18, max=89),
            ColumnExpectation(name="income", dtype="float", max_null_rate=0.1),
            ColumnExpectation(name="plan", dtype="string", allowed=["basic", "pro"]),
            ColumnExpectation(name="active", dtype="boolean"),
        ],
        min_rows=100,
        max_rows=1000,
        target="churned",
        task="classification",
        allow_extra_columns=False,
    )
