"""Building the training service imports no pandas or pyarrow: they come with the first job."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from driftline.training.adapters.datasets import _parquet_to_csv
from driftline.training.adapters.production import labelled_csv

HEAVY = ("scipy", "sklearn", "pandas", "pyarrow")

PROBE = f"""
import sys
from driftline.runtime.app import build_service_app
build_service_app("training")
print(sorted(m for m in {HEAVY!r} if m in sys.modules))
"""

QUIET = {"DRIFTLINE_AUTH__DISABLED": "true", "DRIFTLINE_SIGNING__DISABLED": "true"}


def test_building_training_imports_no_pandas_scipy_or_pyarrow() -> None:
    env = {**os.environ, **QUIET}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"  # ~0.5 s of CPU less per (re)start


def test_parquet_datasets_still_reach_training_as_csv(tmp_path: Path) -> None:
    source, dest = tmp_path / "d.parquet", tmp_path / "d.csv"
    pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}).to_parquet(source)
    _parquet_to_csv(source, dest)
    assert dest.read_text().splitlines() == ["x,y", "1,a", "2,b"]


def test_labelled_rows_still_become_csv() -> None:
    assert labelled_csv([({"x": 1}, "yes")], "label").decode().splitlines() == ["x,label", "1,yes"]
