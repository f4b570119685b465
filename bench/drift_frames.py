"""Seeded reference and current frames for the drift benchmark: 20 numbers, 5 categories.

The current frame shifts 5 of the 25 columns for real: ``x00``..``x03`` by half a standard
deviation and ``c0``'s mix of levels; the other 20 come from the reference's distributions.
Both frames go to Parquet so every implementation, in its own process, reads the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

NUMERIC = [f"x{i:02d}" for i in range(20)]
CATEGORICAL = [f"c{i}" for i in range(5)]
SHIFTED = ("x00", "x01", "x02", "x03", "c0")
LEVELS = (3, 5, 5, 8, 12)
"""Number of levels of each categorical column."""
SHIFT_SD = 0.5


def _numbers(rng: np.random.Generator, i: int, rows: int, shift: float) -> np.ndarray:
    """Normal, lognormal or uniform (by column), moved by ``shift`` of the column's sd."""
    kind, scale = i % 3, 1.0 + i % 4
    if kind == 0:
        return rng.normal(10.0 * i, scale, rows) + shift * scale
    if kind == 1:
        sd = np.sqrt((np.e - 1) * np.e)  # of lognormal(0, 1)
        return rng.lognormal(0.0, 1.0, rows) * scale + shift * sd * scale
    return rng.uniform(0.0, scale, rows) + shift * scale / np.sqrt(12)


def _shares(levels: int, moved: bool) -> np.ndarray:
    weights = np.arange(levels, 0, -1, dtype="float64")  # decreasing: level 0 most common
    if moved:
        weights = np.roll(weights, 1)  # the rarest level becomes the most common
    return weights / weights.sum()


def _categories(rng: np.random.Generator, levels: int, rows: int, moved: bool) -> pd.Series:
    names = np.array([f"level-{k:02d}" for k in range(levels)], dtype=object)
    return pd.Series(names[rng.choice(levels, rows, p=_shares(levels, moved))], dtype="str")


def frame(rows: int, seed: int, *, shifted: bool) -> pd.DataFrame:
    """One frame; ``shifted`` moves the columns in ``SHIFTED``."""
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    for i, name in enumerate(NUMERIC):
        columns[name] = _numbers(rng, i, rows, SHIFT_SD if shifted and name in SHIFTED else 0.0)
    for name, levels in zip(CATEGORICAL, LEVELS, strict=True):
        columns[name] = _categories(rng, levels, rows, shifted and name in SHIFTED)
    return pd.DataFrame(columns)


def write_pair(rows: int, folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference (seed 1) and shifted current (seed 2) frames, also written as Parquet."""
    reference, current = frame(rows, 1, shifted=False), frame(rows, 2, shifted=True)
    reference.to_parquet(folder / "reference.parquet")
    current.to_parquet(folder / "current.parquet")
    return reference, current
