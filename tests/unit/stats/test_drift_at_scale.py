"""Drift decisions at scale: no alarm on a trivial shift of 10^6 rows, exact flags under BH.

Both tests go through the decision monitoring makes (``evaluate_window``, method
``driftline``): per-feature tests on the reference profile built by the code validation uses
(``profile_frame``), Benjamini-Hochberg across the window's features at q = ``alpha``, the
effect-size floors (PSI 0.2 / normalised Wasserstein 0.1 / Jensen-Shannon 0.1) and the share
rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from driftline.monitoring.evaluation import Reference, Tolerances, WindowData, evaluate_window
from driftline.stats.drift import (
    JENSEN_SHANNON_THRESHOLD,
    WASSERSTEIN_THRESHOLD,
    bh_adjusted,
    chi2_test,
    ks_test,
)
from driftline.stats.ecdf import ks_statistic
from driftline.stats.profile import DatasetProfile, profile_frame
from driftline_contracts.modelspec import DriftPolicy

SHA = "ab" * 32
POLICY = DriftPolicy()
NUMERIC = [f"x{i:02d}" for i in range(20)]
CATEGORICAL = [f"c{i}" for i in range(5)]
LEVELS = np.array(["alpha", "beta", "gamma", "delta", "omega"])
SHARES = np.array([0.3, 0.25, 0.2, 0.15, 0.1])


def _frame(
    rng: np.random.Generator,
    rows: int,
    *,
    shift: float = 0.0,
    shares: np.ndarray = SHARES,
    shifted: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """20 normal features (own mean and sd) and 5 string categories.

    Features in ``shifted`` (default: all) move by ``shift`` of their sd and take ``shares``.
    """
    moved = set(NUMERIC + CATEGORICAL if shifted is None else shifted)
    columns: dict[str, object] = {}
    for i, name in enumerate(NUMERIC):
        scale = 1.0 + i % 4
        columns[name] = rng.normal(
            10.0 * i + (shift * scale if name in moved else 0.0), scale, rows
        )
    for name in CATEGORICAL:
        p = shares if name in moved else SHARES
        columns[name] = pd.Series(
            LEVELS.astype(object)[rng.choice(LEVELS.size, rows, p=p)], dtype="str"
        )
    return pd.DataFrame(columns)


def _evaluate(profile: DatasetProfile, current: pd.DataFrame):
    reference = Reference(profile, target="label", task="classification")
    return evaluate_window(reference, WindowData(current, [], []), POLICY, Tolerances())


@pytest.fixture(scope="module")
def million_rows() -> tuple[pd.DataFrame, pd.DataFrame]:
    """10^6 reference rows; 10^6 current rows 0.02 sd higher, categories moved 0.5 points."""
    rng = np.random.default_rng(2024)
    nudged = SHARES + np.array([0.005, 0, 0, 0, -0.005])
    return _frame(rng, 1_000_000), _frame(rng, 1_000_000, shift=0.02, shares=nudged)


def test_a_negligible_shift_on_a_million_rows_raises_no_drift(million_rows) -> None:
    """The profile as validation builds it: a full-data test would flag every feature, we none.

    Categories: the two-sample chi-square on the profile's exact counts is significant after
    BH, and only the Jensen-Shannon floor keeps the column from drifting. Numbers: KS on the
    full 10^6 x 10^6 rows is significant for every feature (p < 1e-18 at 0.02 sd); the
    profile's 2000-value sample does not see the shift, and the effect sizes stay far below
    their floors.
    """
    reference, current = million_rows
    result = _evaluate(profile_frame(reference, sha256=SHA), current)

    assert not result.drifted
    assert result.reasons == []
    assert result.drift_share == 0.0
    by_name = {f.feature: f for f in result.features}
    assert set(by_name) == set(NUMERIC + CATEGORICAL)
    for name in CATEGORICAL:
        verdict = by_name[name]
        assert verdict.test == "chi2"
        assert verdict.p_value is not None
        assert verdict.p_value < POLICY.alpha  # significant after BH ...
        assert verdict.effect_size < JENSEN_SHANNON_THRESHOLD  # ... but immaterial
        assert not verdict.drifted
    raw = [_full_data_ks_p_value(reference[name], current[name]) for name in NUMERIC]
    assert max(bh_adjusted(raw)) < POLICY.alpha  # a test-only rule flags all 20
    for name in NUMERIC:
        verdict = by_name[name]
        assert verdict.effect_size < (
            POLICY.psi_threshold if verdict.effect_test == "psi" else WASSERSTEIN_THRESHOLD
        )
        assert not verdict.drifted
    assert not any(q.flagged for q in result.quality)


def test_with_a_large_ks_sample_the_effect_floor_alone_holds_back_numbers(million_rows) -> None:
    """A 200k-value reference sample makes the decision's own KS significant: still no drift.

    Four numeric columns keep it fast (scipy's ``kstwo`` takes ~0.15 s per p-value here).
    """
    reference, current = million_rows
    columns = NUMERIC[:4]
    profile = profile_frame(reference[columns], sha256=SHA, sample_size=200_000)
    result = _evaluate(profile, current[columns])

    assert [f.feature for f in result.features] == columns
    for verdict in result.features:
        assert verdict.p_value is not None
        assert verdict.p_value < POLICY.alpha
        assert verdict.effect_size is not None
        assert verdict.effect_size < WASSERSTEIN_THRESHOLD
        assert not verdict.drifted
    assert not result.drifted


def _full_data_ks_p_value(reference: pd.Series, current: pd.Series) -> float:
    """KS on every row, p-value from the Kolmogorov limit (``kstwo`` at n = 5e5 takes 0.7 s).

    ``ks_statistic`` equals scipy's ``ks_2samp`` statistic (checked in test_ecdf).
    """
    ref, cur = np.sort(reference.to_numpy()), np.sort(current.to_numpy())
    en = ref.size * cur.size / (ref.size + cur.size)
    return float(stats.kstwobign.sf(ks_statistic(ref, cur) * np.sqrt(en)))


SHIFTED = ("x03", "x08", "x11", "x17", "c2")
SEEDS = range(30)


def test_a_real_shift_on_5_of_25_features_flags_exactly_those_within_the_fdr() -> None:
    """A 0.5-sd shift on 4 numbers and a reversed category mix on 1, the other 20 unchanged.

    Stated bound: BH at q = alpha = 0.05 over m = 25 independent features with m0 = 20 true
    nulls keeps the expected false-discovery proportion at or below q * m0 / m = 0.04. Over
    30 seeds the mean FDP of the significance decisions (adjusted p <= q) must stay within
    q + 0.03 (its standard error here is ~0.012); testing each feature at 0.05 without BH
    would average ~1 false discovery per window (FDP ~0.15). The verdicts, which also need a
    material effect, are a subset with an FDP no larger, exactly the 5 shifted features in at
    least 90% of the windows, and every shifted feature is flagged in every window (power).
    A false discovery can pass the floor: an unlucky 2000-value reference sample moves KS
    and the Wasserstein distance together (with a 5000-row window, seed 5 flags x06 at KS
    p = 0.0009 and 0.104 sd). Measured here: mean FDP 0.033 (significance), 0 (verdicts).
    """
    reversed_mix = SHARES[::-1].copy()
    nulls = set(NUMERIC + CATEGORICAL) - set(SHIFTED)
    significant, flagged, uncorrected = [], [], []
    for seed in SEEDS:
        rng = np.random.default_rng([7, seed])
        profile = profile_frame(_frame(rng, 10_000), sha256=SHA, seed=seed)
        current = _frame(rng, 12_000, shift=0.5, shares=reversed_mix, shifted=SHIFTED)
        result = _evaluate(profile, current)

        found = {f.feature for f in result.features if f.p_value <= POLICY.alpha}
        drifted = {f.feature for f in result.features if f.drifted}
        assert drifted >= set(SHIFTED), seed  # power: every real shift is flagged
        assert found >= drifted, seed  # the floor only ever removes discoveries
        significant.append(len(found & nulls) / len(found))
        flagged.append(len(drifted & nulls) / len(drifted))
        raw = _raw_p_values(profile, current)
        uncorrected.append(sum(raw[name] <= POLICY.alpha for name in nulls))

    assert np.mean(significant) <= POLICY.alpha + 0.03
    assert np.mean(flagged) <= np.mean(significant)
    assert sum(p == 0 for p in flagged) >= 0.9 * len(SEEDS)  # exactly the 5 in most windows
    assert np.mean(uncorrected) > 0.5  # the nulls are live: without BH they would be flagged


def _raw_p_values(profile: DatasetProfile, current: pd.DataFrame) -> dict[str, float]:
    """Per-feature p-values before BH: KS on the profile's sample, chi-square on its counts."""
    raw = {}
    for column in profile.columns:
        if column.sample:
            raw[column.name] = ks_test(np.asarray(column.sample), current[column.name])[1]
        else:
            counts = current[column.name].value_counts()
            observed = {str(k): int(n) for k, n in counts.items()}
            raw[column.name] = chi2_test(column.categories or {}, observed)[1]
    return raw
