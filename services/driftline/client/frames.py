"""Answers turned into the types a notebook wants: tracking models, pandas frames."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


from driftline.training.tracking.models import TrackedRun


def dataframe(parquet: bytes) -> pd.DataFrame:
    """A Parquet file's rows as a DataFrame (pandas is imported on first use, not with the CLI)."""
    import pyarrow.parquet as pq

    return pq.read_table(io.BytesIO(parquet)).to_pandas()


def tracked(payload: Any) -> TrackedRun:
    """A tracked run from its JSON."""
    return TrackedRun.model_validate(payload)
