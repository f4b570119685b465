"""Hostile frames never raise, and stay fast and bounded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftline.stats.drift import compare_to_profile
from driftline.stats.expectations import check_frame, infer_expectations
from driftline.stats.profile import DatasetProfile, profile_frame
from tests.unit.stats.frames import clean_frame, strict_expectations

SHA = "ef" * 32

HOSTILE = {
    "empty": pd.DataFrame(),
    "header_only": clean_frame().head(0),
    "all_null": pd.DataFrame(
        {
            "f": [np.nan] * 4,
            "o": pd.Series([None] * 4, dtype=object),
            "s": pd.Series([None] * 4, dtype="str"),
            "i": pd.Series([pd.NA] * 4, dtype="Int64"),
            "t": pd.Series([pd.NaT] * 4, dtype="datetime64[ns]"),
        }
    ),
    "infinite": pd.DataFrame({"x": [np.inf, -np.inf, 1.0, np.nan], "y": [np.inf] * 4}),
    "extreme": pd.DataFrame({"x": [-1.7e308, 1.7e308, 0.0], "y": [1e300] * 3}),
    "mixed_objects": pd.DataFrame({"m": pd.Series([1, "a", None, 2.5], dtype=object)}),
    "odd_labels": pd.DataFrame([[1, 2, 3]], columns=[0, "a", "a"]),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_every_entry_point_copes(name: str) -> None:
    df = HOSTILE[name]
    profile = profile_frame(df, sha256=SHA)
    assert DatasetProfile.model_validate_json(profile.model_dump_json()) == profile
    inferred = infer_expectations(df)
    assert all(r.passed for r in check_frame(df, inferred))
    assert check_frame(df, strict_expectations())
    assert isinstance(compare_to_profile(profile, df), list)
    assert isinstance(compare_to_profile(_ordinary_reference(), df), list)


def _ordinary_reference() -> DatasetProfile:
    """A well-behaved profile whose columns share the hostile frames' names."""
    rng = np.random.default_rng(0)
    numbers = {name: rng.normal(size=500) for name in ("x", "y", "f", "i", "0", "a")}
    labels = {name: rng.choice(["p", "q"], 500) for name in ("o", "s", "m")}
    return profile_frame(pd.DataFrame(numbers | labels), sha256=SHA)


def test_infinite_values_are_counted_and_kept_out_of_the_statistics() -> None:
    x = profile_frame(HOSTILE["infinite"], sha256=SHA).column("x")
    assert (x.count, x.nulls, x.infinite, x.min, x.max, x.mean) == (1, 1, 2, 1.0, 1.0, 1.0)
    y = profile_frame(HOSTILE["infinite"], sha256=SHA).column("y")
    assert (y.count, y.infinite, y.mean, y.histogram, y.sample) == (0, 4, None, None, None)


def test_overflowing_statistics_become_null_instead_of_inf() -> None:
    x = profile_frame(HOSTILE["extreme"], sha256=SHA).column("x")
    assert x.histogram is None
    assert x.std is None
    assert x.min == -1.7e308


def test_a_million_distinct_strings_keep_a_bounded_profile() -> None:
    df = pd.DataFrame({"key": pd.Series(np.arange(1_000_000)).astype("str")})
    profile = profile_frame(df, sha256=SHA, top_k=50)
    column = profile.column("key")
    assert len(column.categories) == 51
    assert column.categories["__other__"] == 1_000_000 - 50
    assert column.distinct == 1_000_000
    assert len(profile.model_dump_json()) < 10_000
    assert infer_expectations(df).columns[0].allowed is None
