"""Request rows against a model's features: exact names, errors that say which one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from driftline.deployment.errors import FeatureError, FeatureProblem


def row_problems(
    index: int, row: Mapping[str, Any], features: Sequence[str], *, loc: str = "instances"
) -> list[FeatureProblem]:
    """One problem per missing or unknown feature of row ``index``, in FastAPI's 422 shape."""
    expected = set(features)
    missing: list[FeatureProblem] = [
        {
            "loc": ["body", loc, index, name],
            "msg": f"missing feature {name!r} (row {index})",
            "type": "missing_feature",
        }
        for name in features
        if name not in row
    ]
    unknown: list[FeatureProblem] = [
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
) -> list[FeatureProblem]:
    """Every row's problems, rows in order."""
    expected = frozenset(features)
    return [
        p
        for i, row in enumerate(instances)
        if row.keys() != expected  # the usual case, checked for the whole row at once
        for p in row_problems(i, row, features)
    ]


def to_frame(instances: Sequence[Mapping[str, Any]], features: Sequence[str]) -> pd.DataFrame:
    """Rows as a frame with the training column order; ``FeatureError`` if names differ."""
    problems = feature_problems(instances, features)
    if problems:
        raise FeatureError(problems)
    return frame_of(instances, features)


def float_matrix(
    instances: Sequence[Mapping[str, Any]], features: Sequence[str]
) -> np.ndarray | None:
    """Rows (already checked) as a float64 array in feature order; None unless all are floats.

    One C-level pass per step (``itemgetter`` per row, the set of value types over all of
    them) instead of Python loops over every value: most of a 100-row request's cost before.
    """
    values = _values(instances, features)
    if set(map(type, chain.from_iterable(values))) == {float}:
        return np.array(values, dtype=np.float64)
    return None


def _values(instances: Sequence[Mapping[str, Any]], features: Sequence[str]) -> list[tuple]:
    """Each row's values in feature order."""
    if len(features) < 2:  # itemgetter of one name returns the value, not a tuple
        return [tuple(row[name] for name in features) for row in instances]
    return list(map(itemgetter(*features), instances))


def frame_of(instances: Sequence[Mapping[str, Any]], features: Sequence[str]) -> pd.DataFrame:
    """Rows (already checked) as a frame in training column order.

    All-float rows (the common case) become one float64 block, faster to build than a frame
    inferring a type per column; anything else keeps pandas' per-column inference (ints,
    strings, booleans, None).
    """
    values = _values(instances, features)
    # Object-dtype names: pandas 3's default Arrow strings make scikit-learn's feature-name
    # check on every predict several times slower.
    columns = pd.Index(list(features), dtype=object)
    if values and set(map(type, chain.from_iterable(values))) == {float}:
        return pd.DataFrame(np.array(values, dtype=np.float64), columns=columns)
    return pd.DataFrame(values, columns=columns)
