"""Training windows: which versions a run reads, and the rows it keeps of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.training.windows import AcceptedVersion, versions_in_window, window_frame
from driftline_contracts.modelspec import ModelSpec, TrainingWindow, spec_hash
from driftline_contracts.values import DatasetRef

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _ref(version: int) -> DatasetRef:
    return DatasetRef(
        name="houses", version=version, uri=f"s3://b/houses/v{version}.csv",
        sha256=f"{version:064x}", format="csv",
    )  # fmt: skip


def _accepted(count: int, every_days: float = 1.0) -> list[AcceptedVersion]:
    return [
        AcceptedVersion(_ref(n), T0 + timedelta(days=every_days * n)) for n in range(1, count + 1)
    ]


def _numbers(refs: list[DatasetRef]) -> list[int | None]:
    return [r.version for r in refs]


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (TrainingWindow(), [1, 2, 3, 4, 5]),
        (TrainingWindow(versions="newest"), [5]),
        (TrainingWindow(versions="last", last=2), [4, 5]),
        (TrainingWindow(versions="last", last=1), [5]),
        (TrainingWindow(versions="last", last=50), [1, 2, 3, 4, 5]),
        (TrainingWindow(versions="days", days=2.5), [3, 4, 5]),
    ],
)
def test_a_window_picks_versions_oldest_first(window: TrainingWindow, expected: list[int]) -> None:
    assert _numbers(versions_in_window(_accepted(5), _ref(5), window)) == expected


def test_a_window_never_reads_versions_newer_than_the_jobs() -> None:
    """A job for v3 that runs after v5 was accepted trains on v1..v3, as queued."""
    assert _numbers(versions_in_window(_accepted(5), _ref(3), TrainingWindow())) == [1, 2, 3]


def test_the_newest_version_is_read_even_if_training_never_recorded_it() -> None:
    assert _numbers(versions_in_window([], _ref(4), TrainingWindow())) == [4]


def test_a_days_window_without_acceptance_times_reads_only_the_newest() -> None:
    """Versions recorded before training kept the time cannot be placed in a time window."""
    accepted = [AcceptedVersion(_ref(n)) for n in (1, 2, 3)]
    window = TrainingWindow(versions="days", days=365)
    assert _numbers(versions_in_window(accepted, _ref(3), window)) == [3]


def test_repeated_rows_are_dropped_keeping_the_newest_copy() -> None:
    old = pd.DataFrame({"x": [1.0, 2.0, 3.0], "city": ["a", "b", "c"], "y": [1, 2, 3]})
    new = pd.DataFrame({"x": [3.0, 4.0], "city": ["c", "d"], "y": [3, 4]})
    frame = window_frame([old, new], TrainingWindow())
    assert frame.to_dict("list") == {"x": [1.0, 2.0, 3.0, 4.0], "city": ["a", "b", "c", "d"],
                                     "y": [1, 2, 3, 4]}  # fmt: skip
    kept = window_frame([old, new], TrainingWindow(dedupe=False))
    assert len(kept) == 5


def test_the_row_budget_keeps_the_newest_rows() -> None:
    old = pd.DataFrame({"x": range(10), "y": range(10)})
    new = pd.DataFrame({"x": range(100, 105), "y": range(5)})
    frame = window_frame([old, new], TrainingWindow(max_rows=7))
    assert frame["x"].tolist() == [8, 9, 100, 101, 102, 103, 104]


def test_a_column_only_newer_versions_have_is_empty_in_older_rows() -> None:
    old = pd.DataFrame({"x": [1.0], "y": [1]})
    new = pd.DataFrame({"x": [2.0], "extra": ["e"], "y": [2]})
    frame = window_frame([old, new], TrainingWindow())
    assert frame["extra"].isna().tolist() == [True, False]


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 30), min_size=1, max_size=5),
    budget=st.integers(1, 60),
    seed=st.integers(0, 1000),
)
def test_a_window_frame_is_within_budget_and_has_no_repeats(
    sizes: list[int], budget: int, seed: int
) -> None:
    """Whatever the versions, the result has no repeated row, at most the budget, and every
    distinct row of the newest version when the budget allows it."""
    rng = pd.Series(range(1000)).sample(frac=1, random_state=seed).tolist()
    frames = [
        pd.DataFrame({"x": [rng[(i * 7 + j) % 40] for j in range(n)], "y": [1] * n})
        for i, n in enumerate(sizes)
    ]
    frame = window_frame(frames, TrainingWindow(max_rows=budget))
    assert len(frame) <= budget
    assert not frame.duplicated().any()
    newest = frames[-1].drop_duplicates()
    if len(newest) <= budget:
        assert set(newest["x"]) <= set(frame["x"])


def _spec(**extra: object) -> ModelSpec:
    return ModelSpec.model_validate({
        "model": "m", "dataset": "d", "target": "y", "task": "regression",
        "trainer": {"estimator": "sklearn.linear_model.Ridge"}, **extra,
    })  # fmt: skip


def test_a_default_window_leaves_the_spec_hash_as_it_was() -> None:
    """Specs applied before windows existed keep their hash; a chosen window changes it."""
    plain = _spec()
    assert spec_hash(plain) == spec_hash(_spec(window={"versions": "all"}))
    assert spec_hash(plain) != spec_hash(_spec(window={"versions": "last", "last": 2}))


def test_an_unknown_window_kind_is_refused_with_its_choices() -> None:
    with pytest.raises(ValueError, match="'all', 'newest', 'last' or 'days'"):
        _spec(window={"versions": "everything"})
