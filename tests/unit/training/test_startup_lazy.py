"""What moved behind first use still works (the start-up import probe of every service is
in tests/unit/runtime/test_startup_lazy.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from driftline.training.adapters.datasets import _parquet_to_csv
from driftline.training.adapters.production import labelled_csv


def test_parquet_datasets_still_reach_training_as_csv(tmp_path: Path) -> None:
    source, dest = tmp_path / "d.parquet", tmp_path / "d.csv"
    pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}).to_parquet(source)
    _parquet_to_csv(source, dest)
    assert dest.read_text().splitlines() == ["x,y", "1,a", "2,b"]


def test_labelled_rows_still_become_csv() -> None:
    assert labelled_csv([({"x": 1}, "yes")], "label").decode().splitlines() == ["x,label", "1,yes"]
