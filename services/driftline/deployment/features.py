"""Request rows against a model's features: exact names, errors that say which one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from driftline.deployment.errors import FeatureError


def row_problems(
    index: int, row: Mapping[str, Any], features: Sequence[str], *, loc: str = "instances"
) -> list[dict[str, object]]:
    """One problem per missing or unknown feature of row ``index``, in FastAPI's 422 shape."""
    expected = set(features)
    missing = [
        {
            "loc": ["body", loc, index, name],
            "msg": f"missing feature {name!r} (row {index})",
            "type": "missing_feature",
        }
        for name in features
        if name not in row
    ]
    unknown = [
        {
            "loc": ["body", loc, index, name],
            "msg": f"unknown feature {name!r} (row {index}); the model expects "
            f"{len(features)} features named as in training",
            "type": "unknown_feature",
        }
        for name in row
        if name not in expected
    ]
    return missing + unknown


def feature_problems(
    instances: Sequence[Mapping[str, Any]], features: Sequence[str]
) -> list[dict[str, object]]:
    """Every row's problems, rows in order."""
    return [p for i, row in enumerate(instances) for p in row_problems(i, row, features)]


def to_frame(instances: Sequence[Mapping[str, Any]], features: Sequence[str]) -> pd.DataFrame:
    """Rows as a frame with the training column order; ``FeatureError`` if names differ."""
    problems = feature_problems(instances, features)
    if problems:
        raise FeatureError(problems)
    return frame_of(instances, features)


def float_matrix(
    instances: Sequence[Mapping[str, Any]], features: Sequence[str]
) -> np.ndarray | None:
    """Rows (already checked) as a float64 array in feature order; None unless all are floats."""
    values = [[row[name] for name in features] for row in instances]
    if all(type(v) is float for row in values for v in row):
        return np.array(values, dtype=np.float64)
    return None


def frame_of(instances: Sequence[Mapping[str, Any]], features: Sequence[str]) -> pd.DataFrame:
    """Rows (already checked) as a frame in training column order.

    All-float rows (the common case) become one float64 block, faster to build than a frame
    inferring a type per column; anything else keeps pandas' per-column inference (ints,
    strings, booleans, None).
    """
    values = [[row[name] for name in features] for row in instances]
    # Object-dtype names: pandas 3's default Arrow strings make scikit-learn's feature-name
    # check on every predict several times slower.
    columns = pd.Index(list(features), dtype=object)
    if all(type(v) is float for row in values for v in row):
        return pd.DataFrame(np.array(values, dtype=np.float64), columns=columns)
    return pd.DataFrame(values, columns=columns)
