"""The input signature a run records: types, category domains and nulls of its features."""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftline.training.signature import input_signature
from driftline_contracts.signature import MAX_CATEGORIES


def test_each_feature_gets_its_type_domain_and_nullability() -> None:
    frame = pd.DataFrame({
        "sqft": [50.5, np.nan, 80.0],
        "rooms": [1, 2, 3],
        "garden": [True, False, True],
        "city": ["Oslo", "Bergen", None],
        "price": [1.0, 2.0, 3.0],
    })  # fmt: skip
    signature = input_signature(frame, ["sqft", "rooms", "garden", "city"])
    got = {c.name: (c.dtype, c.nullable, c.categories) for c in signature.columns}
    assert got == {
        "sqft": ("number", True, None),
        "rooms": ("integer", False, None),
        "garden": ("boolean", False, None),
        "city": ("string", True, ["Bergen", "Oslo"]),
    }
    assert [c.name for c in signature.columns] == ["sqft", "rooms", "garden", "city"]


def test_a_free_text_column_keeps_no_domain() -> None:
    frame = pd.DataFrame({"note": [f"n{i}" for i in range(MAX_CATEGORIES + 1)]})
    (column,) = input_signature(frame, ["note"]).columns
    assert (column.dtype, column.categories) == ("string", None)
