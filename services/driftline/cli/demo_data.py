"""Data the demo publishes: a real public dataset shipped inside the scikit-learn wheel."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


def breast_cancer_frame() -> pd.DataFrame:
    """The Wisconsin breast-cancer data set: 569 rows, 30 features and ``target`` (0 malignant)."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    return frame


def breast_cancer_csv() -> bytes:
    """The breast-cancer data set as CSV bytes."""
    return breast_cancer_frame().to_csv(index=False).encode()


def corrupted(csv: bytes, seed: int = 7) -> bytes:
    """The same data with a column dropped, 30% nulls in another and impossible values."""
    import pandas as pd

    frame = pd.read_csv(io.BytesIO(csv))
    rng = np.random.default_rng(seed)
    frame = frame.drop(columns=["mean_radius"])
    frame.loc[rng.random(len(frame)) < 0.3, "mean_texture"] = np.nan
    frame.loc[frame.index[:20], "mean_area"] = -1.0
    return frame.to_csv(index=False).encode()
