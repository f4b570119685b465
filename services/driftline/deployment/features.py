"""Request rows against a model's features: exact names, errors that say which one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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
    return pd.DataFrame([[row[name] for name in features] for row in instances], columns=features)
