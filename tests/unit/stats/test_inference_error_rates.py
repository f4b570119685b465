"""Error rates of inferred expectations on real data, over random splits of each dataset.

The datasets ship inside scikit-learn's wheel (no download). Each seed splits a dataset into
two disjoint halves: expectations are inferred from one half, and the other half (an unshifted
second slice) must never be rejected; a missing column or a type change always must be. The
suite draws 60 splits (enough to catch a broken rule); docs/validation.md quotes the figures
printed over 200: ``DRIFTLINE_RATE_SEEDS=200 .venv/bin/pytest -n 0 -s <this file>``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets

from driftline.stats.expectations import CheckResult, check_frame, infer_expectations
from tests.rate_seeds import rate_seeds

SEEDS = rate_seeds(60)


def _named(bunch: datasets._base.Bunch) -> pd.DataFrame:
    """The frame with its integer class replaced by the class names: a real string column."""
    names = np.asarray(bunch.target_names)
    return bunch.frame.assign(target=names[bunch.target.to_numpy()])


DATASETS: dict[str, Callable[[], pd.DataFrame]] = {
    "diabetes": lambda: datasets.load_diabetes(as_frame=True).frame,
    "breast_cancer": lambda: datasets.load_breast_cancer(as_frame=True).frame,
    "wine": lambda: _named(datasets.load_wine(as_frame=True)),
    "iris": lambda: _named(datasets.load_iris(as_frame=True)),
}


def _halves(frame: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(frame))
    half = len(frame) // 2
    first, second = frame.iloc[order[:half]], frame.iloc[order[half:]]
    return first.reset_index(drop=True), second.reset_index(drop=True)


def _outcome(reference: pd.DataFrame, later: pd.DataFrame) -> tuple[bool, bool]:
    """(rejected, warned) for ``later`` against expectations inferred from ``reference``."""
    failed: list[CheckResult] = [
        r for r in check_frame(later, infer_expectations(reference)) if not r.passed
    ]
    rejected = any(r.severity == "reject" for r in failed)
    return rejected, bool(failed) and not rejected


def _rate(name: str, change: Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]) -> float:
    frame = DATASETS[name]()
    rejected = 0
    for seed in range(SEEDS):
        reference, later = _halves(frame, seed)
        rejected += _outcome(reference, change(later, np.random.default_rng(seed)))[0]
    return rejected / SEEDS


def _numeric_column(frame: pd.DataFrame, rng: np.random.Generator) -> str:
    numeric = [c for c in frame.columns if c != "target" and frame[c].dtype.kind == "f"]
    return str(rng.choice(numeric))


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_an_unshifted_second_slice_is_never_rejected(name: str) -> None:
    frame = DATASETS[name]()
    outcomes = [_outcome(*_halves(frame, seed)) for seed in range(SEEDS)]
    rejected = sum(r for r, _ in outcomes) / SEEDS
    warned = sum(w for _, w in outcomes) / SEEDS
    print(f"{name}: false rejections {rejected:.1%}, accepted with warnings {warned:.1%}")
    assert rejected == 0.0


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_a_missing_column_is_always_rejected(name: str) -> None:
    def drop(later: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        return later.drop(columns=[rng.choice(later.columns)])

    assert _rate(name, drop) == 1.0


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_a_type_change_is_always_rejected(name: str) -> None:
    def as_text(later: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        column = _numeric_column(later, rng)
        return later.assign(**{column: later[column].map(lambda v: f"{v} units")})

    assert _rate(name, as_text) == 1.0


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_a_unit_change_is_always_rejected(name: str) -> None:
    def times_100(later: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        column = _numeric_column(later, rng)
        return later.assign(**{column: later[column] * 100})

    rate = _rate(name, times_100)
    print(f"{name}: one column x100 rejected {rate:.1%}")
    assert rate == 1.0


@pytest.mark.parametrize("name", ["breast_cancer", "iris", "wine"])
def test_a_sign_flip_of_a_positive_column_is_always_rejected(name: str) -> None:
    def negated(later: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        column = _numeric_column(later, rng)
        return later.assign(**{column: -later[column]})

    assert (DATASETS[name]().select_dtypes("number") >= 0).all().all()
    assert _rate(name, negated) == 1.0


def test_detection_of_smaller_changes_is_measured() -> None:
    """Scale x2 and a 10% share of a new category: rates reported, floors asserted."""

    def times_2(later: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        column = _numeric_column(later, rng)
        return later.assign(**{column: later[column] * 2})

    def new_category(later: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        picked = rng.random(len(later)) < 0.10
        return later.assign(target=later.target.where(~picked, "unknown_class"))

    scaled = {name: _rate(name, times_2) for name in sorted(DATASETS)}
    categories = {name: _rate(name, new_category) for name in ("iris", "wine")}
    print(f"one column x2 rejected: {scaled}; 10% new category rejected: {categories}")
    assert min(categories.values()) >= 0.9
    assert min(scaled.values()) >= 0.2


def test_a_handful_of_outliers_in_a_large_slice_only_warn() -> None:
    rng = np.random.default_rng(0)
    first = pd.DataFrame({"x": rng.normal(0, 1, 20_000), "city": rng.choice(["a", "b"], 20_000)})
    second = pd.DataFrame({"x": rng.normal(0, 1, 20_000), "city": rng.choice(["a", "b"], 20_000)})
    second.loc[:2, "x"] = 1e6  # 3 rows of 20,000 far outside
    second.loc[:9, "city"] = "c"  # 10 rows of an unseen category
    failed = {r.column: r for r in check_frame(second, infer_expectations(first)) if not r.passed}
    assert set(failed) == {"x", "city"}
    assert failed["city"].failing_rows == 10
    assert 3 <= failed["x"].failing_rows <= 10  # ours, and a few far normal tails
    assert {r.severity for r in failed.values()} == {"warn"}
    failed = list(failed.values())
    assert all("tolerance 1.000%" in r.observed for r in failed)
