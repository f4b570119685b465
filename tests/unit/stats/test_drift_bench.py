"""The drift benchmark's pure parts: the floor equals scipy, verdicts and aims read right.

``python -m bench.run --suite drift --quick`` smoke-runs the whole suite (Evidently's venv).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bench import drift_floor
from bench.drift_checks import Check, log_check
from bench.drift_evidently import flagged
from bench.drift_frames import CATEGORICAL, NUMERIC, SHIFTED
from bench.drift_report import Measured, report_lines


@pytest.mark.parametrize("decimals", [None, 1])
def test_the_floor_ks_equals_scipy_on_large_samples(decimals: int | None) -> None:
    rng = np.random.default_rng(5)
    reference, current = rng.normal(0, 1, 30_000), rng.normal(0.02, 1, 20_000)
    if decimals is not None:  # ties within and across the samples
        reference, current = np.round(reference, decimals), np.round(current, decimals)
    expected = stats.ks_2samp(reference, current)
    assert drift_floor.ks(np.sort(reference), np.sort(current)) == (
        expected.statistic,
        expected.pvalue,
    )


def test_the_floor_chi_square_is_the_two_sample_test_over_both_sides_categories() -> None:
    reference = pd.Series(["a"] * 50 + ["b"] * 50)
    current = pd.Series(["a"] * 30 + ["b"] * 60 + ["c"] * 10)
    table = np.array([[50, 50, 0], [30, 60, 10]])
    expected = stats.chi2_contingency(table, correction=False)
    assert drift_floor.chi_square(reference, current) == pytest.approx(
        (expected.statistic, expected.pvalue), abs=1e-12
    )


def test_evidently_flags_p_values_below_and_distances_at_or_above_the_threshold() -> None:
    columns = {
        "a": {"method": "ks", "value": 0.01, "threshold": 0.05},
        "b": {"method": "chisquare", "value": 0.2, "threshold": 0.05},
        "c": {"method": "Wasserstein distance (normed)", "value": 0.1, "threshold": 0.1},
        "d": {"method": "Jensen-Shannon distance", "value": 0.02, "threshold": 0.1},
        "e": {"method": "K-S p_value", "value": 0.04, "threshold": 0.05},
    }
    assert flagged(columns) == {"a", "c", "e"}


def _measured(
    driftline_s: float, evidently_s: float, evidently_mib: float, log_s: float = 1.0
) -> Measured:
    features = [{"feature": n, "drifted": n in SHIFTED} for n in NUMERIC + CATEGORICAL]
    columns = {n: {"statistic": 0.1, "p_value": 0.5, "psi": 0.0} for n in NUMERIC + CATEGORICAL}
    evidently = {
        "seconds": evidently_s,
        "rss_mib": evidently_mib,
        "columns": {n: {"method": "ks", "value": 0.5, "threshold": 0.05} for n in columns},
    }
    return Measured(
        rows=1000,
        driftline={"features": features, "evaluate_s": [driftline_s], "cold_s": [driftline_s],
                   "evaluate_rss_mib": 10.0, "evaluate_traced_mib": 9.0, "rss_mib": 20.0,
                   "traced_mib": 18.0},
        floor={"cold_s": [1.0], "rss_mib": 30.0, "traced_mib": 25.0, "columns": columns},
        evidently=evidently,
        evidently_ks=evidently,
        checks=[Check("x", 1, 0.0)],
        log={"features": features, "window_s": [log_s], "objects": 50, "rss_mib": 15.0,
             "traced_mib": 14.0},
    )  # fmt: skip


def test_the_aims_are_judged_on_the_measured_figures() -> None:
    met = report_lines(
        [_measured(1.2, 100.0, 1000.0)], {"goodness_of_fit": 0.3, "two_sample": 0.05}
    )
    assert "- at least 50x faster than Evidently's default: 83x / 83x — aim met." in met
    assert "- within 1.5x of the floor: 1.20x / 1.20x — aim met." in met
    assert any(line.endswith("| 5/5 / 0 |") and "Driftline" in line for line in met)
    assert any("within 1.5x of the floor (issue 16): 1.00x — aim met." in line for line in met)

    missed = report_lines(
        [_measured(2.0, 50.0, 100.0)], {"goodness_of_fit": 0.3, "two_sample": 0.05}
    )
    assert "- at least 50x faster than Evidently's default: 25x / 25x — aim NOT met." in missed
    assert "- within 1.5x of the floor: 2.00x / 2.00x — aim NOT met." in missed
    assert any("under 1/5 of Evidently's default" in line and "NOT met" in line for line in missed)


def test_the_log_aim_is_judged_against_the_floor_and_the_load_is_stated() -> None:
    rates = {"goodness_of_fit": 0.3, "two_sample": 0.05}
    load = ((3.5, 2.0, 1.0), (4.25, 3.0, 2.0))
    slow = report_lines([_measured(1.0, 100.0, 1000.0, log_s=1.6)], rates, load)
    aim = "from the prediction log within 1.5x of the floor (issue 16): 1.60x — aim NOT met."
    assert any(aim in line for line in slow)
    assert any("prediction log (50 Parquet objects)" in line and "| 1.60 |" in line
               for line in slow)  # fmt: skip
    assert any("at the start: 3.50 / 2.00 / 1.00; at the end: 4.25 / 3.00 / 2.00" in line
               for line in slow)  # fmt: skip
    edge = report_lines([_measured(1.0, 100.0, 1000.0, log_s=1.5)], rates)
    assert any("(issue 16): 1.50x — aim met." in line for line in edge)


def test_the_log_side_must_give_the_frames_statistics_and_verdicts() -> None:
    features = [{"feature": "x00", "statistic": 0.2, "p_value": 0.01, "drifted": True},
                {"feature": "c0", "statistic": 3.0, "p_value": None, "drifted": False}]  # fmt: skip
    same = log_check({"features": features}, {"features": [dict(f) for f in features]})
    assert same.difference == 0.0
    moved = [dict(features[0], p_value=0.02), features[1]]
    assert not log_check({"features": features}, {"features": moved}).ok
    flipped = [dict(features[0], drifted=False), features[1]]
    assert not log_check({"features": features}, {"features": flipped}).ok
    assert not log_check({"features": features}, {"features": features[:1]}).ok
