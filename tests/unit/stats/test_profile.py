"""profile_frame agrees with pandas and numpy, ignores invalid values and serialises."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.stats.profile import QUANTILES, DatasetProfile, profile_frame
from tests.unit.stats.frames import clean_frame

SHA = "ab" * 32


def _frame() -> pd.DataFrame:
    df = clean_frame(rows=5000)
    df.loc[::7, "income"] = np.nan
    df.loc[[1, 2], "income"] = [np.inf, -np.inf]
    df["joined"] = pd.date_range("2024-01-01", periods=len(df), freq="h")
    return df


def test_numeric_statistics_match_pandas_on_the_valid_values() -> None:
    df = _frame()
    income = profile_frame(df, sha256=SHA).column("income")
    valid = df.income[np.isfinite(df.income)]
    assert (income.count, income.nulls, income.infinite) == (len(valid), 715, 2)
    assert income.mean == pytest.approx(valid.mean(), rel=1e-12)
    assert income.std == pytest.approx(valid.std(), rel=1e-12)
    assert (income.min, income.max, income.distinct) == (valid.min(), valid.max(), valid.nunique())
    expected = {key: valid.quantile(q) for key, q in QUANTILES.items()}
    assert income.quantiles == pytest.approx(expected, rel=1e-12)


def test_histogram_and_sample_cover_the_valid_values() -> None:
    df = _frame()
    age = profile_frame(df, sha256=SHA, bins=10, sample_size=300).column("age")
    counts, edges = np.histogram(df.age, bins=10)
    assert age.histogram.counts == counts.tolist()
    assert age.histogram.edges == pytest.approx(edges.tolist())
    assert len(age.sample) == 300
    assert age.sample == sorted(age.sample)
    assert set(age.sample) <= set(df.age.astype(float))


def test_the_sample_is_seeded() -> None:
    df = _frame()
    first, again, other = (
        profile_frame(df, sha256=SHA, seed=s).column("income").sample for s in (0, 0, 1)
    )
    assert first == again
    assert first != other


def test_categories_keep_the_top_k_and_count_the_rest_as_other() -> None:
    df = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d", None]})
    column = profile_frame(df, sha256=SHA, top_k=2).column("c")
    assert column.categories == {"a": 5, "b": 3, "__other__": 3}
    assert (column.count, column.nulls, column.distinct) == (11, 1, 4)


def test_booleans_count_both_values_and_report_the_share_of_true() -> None:
    flags = profile_frame(_frame(), sha256=SHA).column("active")
    assert sum(flags.categories.values()) == 5000
    assert flags.mean == pytest.approx(flags.categories["True"] / 5000)


def test_datetimes_report_their_range_in_epoch_seconds() -> None:
    joined = profile_frame(_frame(), sha256=SHA).column("joined")
    assert joined.min == pd.Timestamp("2024-01-01", tz="UTC").timestamp()
    assert joined.max - joined.min == 4999 * 3600
    assert joined.histogram is None


def test_a_profile_round_trips_through_json() -> None:
    profile = profile_frame(_frame(), sha256=SHA)
    assert DatasetProfile.model_validate_json(profile.model_dump_json()) == profile
    assert profile.rows == 5000
    assert profile.column("absent") is None


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none()),
        max_size=50,
    )
)
def test_any_float_column_profiles_to_finite_serialisable_numbers(values: list) -> None:
    series = pd.Series(values, dtype="float64")
    profile = profile_frame(pd.DataFrame({"x": series}), sha256=SHA)
    column = profile.column("x")
    assert column.count + column.nulls + column.infinite == len(values)
    assert DatasetProfile.model_validate_json(profile.model_dump_json()) == profile
