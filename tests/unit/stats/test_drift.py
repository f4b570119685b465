"""compare_to_profile: significant and material shifts drift; noise and tiny shifts do not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftline.stats.drift import compare_to_profile
from driftline.stats.profile import profile_frame

SHA = "cd" * 32


def _frame(rng: np.random.Generator, rows: int, *, shift: float = 0.0, gold: float = 0.0):
    plans = rng.choice(["basic", "pro", "gold"], rows, p=[0.6 - gold, 0.4, gold])
    return pd.DataFrame(
        {
            "income": rng.normal(50 + shift * 10, 10, rows),
            "tenure": rng.integers(0, 72, rows),
            "plan": plans,
            "active": rng.random(rows) < 0.5,
            "joined": pd.Timestamp("2024-01-01"),
        }
    )


def _verdicts(current: pd.DataFrame, reference: pd.DataFrame) -> dict[str, bool]:
    profile = profile_frame(reference, sha256=SHA)
    return {r.feature: r.drifted for r in compare_to_profile(profile, current)}


def test_the_same_distribution_does_not_drift() -> None:
    rng = np.random.default_rng(3)
    verdicts = _verdicts(_frame(rng, 20_000), _frame(rng, 20_000))
    assert verdicts == {"income": False, "tenure": False, "plan": False, "active": False}


def test_a_material_shift_drifts_and_names_the_test() -> None:
    rng = np.random.default_rng(4)
    reference = profile_frame(_frame(rng, 20_000), sha256=SHA)
    results = compare_to_profile(reference, _frame(rng, 20_000, shift=0.5, gold=0.3))
    by_feature = {r.feature: r for r in results}
    assert {f for f, r in by_feature.items() if r.drifted} == {"income", "plan"}
    assert by_feature["income"].test == "ks"
    assert by_feature["income"].effect_size >= 0.1
    assert by_feature["plan"].test == "chi2"
    assert by_feature["plan"].effect_test == "jensen_shannon"


def test_a_significant_but_tiny_shift_is_held_back_by_the_effect_floor() -> None:
    rng = np.random.default_rng(5)
    reference = profile_frame(_frame(rng, 100_000), sha256=SHA, sample_size=30_000)
    result = compare_to_profile(reference, _frame(rng, 100_000, shift=0.06))[0]
    assert result.p_value < 1e-4
    assert not result.drifted


def test_unseen_categories_count_against_the_other_bucket() -> None:
    reference = profile_frame(pd.DataFrame({"c": ["a", "b"] * 500}), sha256=SHA)
    current = pd.DataFrame({"c": ["a", "b", "new", "newer"] * 250})
    [result] = compare_to_profile(reference, current)
    assert result.drifted
    assert result.effect_size > 0.3


def test_missing_or_empty_current_columns_are_skipped() -> None:
    rng = np.random.default_rng(6)
    reference = profile_frame(_frame(rng, 1000), sha256=SHA)
    current = _frame(rng, 1000).drop(columns="plan").assign(income=np.nan)
    assert {r.feature for r in compare_to_profile(reference, current)} == {"tenure", "active"}
