"""A request's rows as one model reads them: values in feature order, taken once per request.

The names check, the signature check and the predict each needed the rows' values in feature
order; each used to take them again (and the names check compared every row's keys in a
Python loop). Here one ``itemgetter`` pass over the rows gives every row's values, the set of
value types over all of them answers the usual checks at once (every name present and no
other: no ``KeyError`` and as many keys as rows times features; every value a number), and
the float matrix the model predicts on is built from the same values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from driftline.deployment.errors import FeatureError
from driftline.deployment.serving.features import feature_problems
from driftline.deployment.serving.signature_check import Checked, check_rows
from driftline_contracts.signature import InputSignature

Row = Mapping[str, Any]
NUMERIC = frozenset({"number", "integer"})


def _values(rows: Sequence[Row], features: Sequence[str]) -> list[tuple[Any, ...]]:
    """Each row's values in feature order (``KeyError`` when a row lacks one)."""
    if len(features) == 1:  # itemgetter of one name returns the value, not a tuple
        return [(row[features[0]],) for row in rows]
    return list(map(itemgetter(*features), rows))


@dataclass(frozen=True)
class RowBatch:
    """Rows (as received), their values in the model's feature order and every value type."""

    rows: Sequence[Row]
    features: tuple[str, ...]
    values: list[tuple[Any, ...]]
    kinds: frozenset[type]

    @classmethod
    def of(cls, rows: Sequence[Row], features: Sequence[str]) -> RowBatch:
        """The batch; ``FeatureError`` naming every missing or unknown feature of every row."""
        try:
            values = _values(rows, features)
        except KeyError:
            values = None
        if values is None or sum(map(len, rows)) != len(rows) * len(features):
            raise FeatureError(feature_problems(rows, features))
        return cls(rows, tuple(features), values, frozenset(map(type, chain.from_iterable(values))))

    def __len__(self) -> int:
        return len(self.rows)

    def numbers_only(self) -> bool:
        """Whether every value is an int or a float (booleans are not)."""
        return self.kinds <= {float, int}

    def matrix(self) -> np.ndarray | None:
        """The values as one float64 array in feature order, when every value is a float."""
        if self.kinds == {float}:
            return np.array(self.values, dtype=np.float64)
        return None

    def frame(self) -> pd.DataFrame:
        """The values as a frame in feature order (one float64 block when all are floats)."""
        # Object-dtype names: pandas 3's default Arrow strings make scikit-learn's feature-name
        # check on every predict several times slower.
        columns = pd.Index(list(self.features), dtype=object)
        matrix = self.matrix()
        if matrix is not None:
            return pd.DataFrame(matrix, columns=columns)
        return pd.DataFrame(self.values, columns=columns)


def check_batch(batch: RowBatch, signature: InputSignature | None) -> Checked:
    """``check_rows`` for a batch: numbers only against numeric columns need no value checked
    (the usual request), the rest goes through ``check_rows`` column by column."""
    if signature is None or (
        batch.numbers_only()
        and all(c.dtype in NUMERIC for c in signature.columns)
        and {c.name for c in signature.columns} <= set(batch.features)
    ):
        return Checked(list(batch.rows), [[] for _ in batch.rows])
    return check_rows(batch.rows, signature)
