"""Evidently's chi-square (goodness of fit) vs a two-sample chi-square on unshifted columns.

Evidently tests the current counts against the reference proportions as if they were exact.
They are a sample too: with a reference as large as the window the statistic is about twice
what it should be, so at p < 0.05 it flags far more than 5% of columns that did not move, at
any sample size. Driftline's Pearson test on the 2xK table counts both samples' noise.
"""

from __future__ import annotations

import numpy as np

from bench.drift_frames import LEVELS
from driftline.stats.evidently_mode import goodness_of_fit
from driftline.stats.twosample import chi2_test

ALPHA = 0.05


def false_alarm_rates(rows: int, replicates: int, seed: int = 0) -> dict[str, float]:
    """Share of unshifted (reference, current) count pairs each test flags at p < 0.05.

    Columns of 3 to 12 levels (``LEVELS``), both samples ``rows`` long, multinomial counts.
    Evidently's test is ``driftline.stats.evidently_mode.goodness_of_fit``, equal to
    Evidently 0.7.23's to 1e-9 (``bench/evidently_parity.py``).
    """
    rng = np.random.default_rng(seed)
    flagged = {"goodness_of_fit": 0, "two_sample": 0}
    trials = 0
    for levels in sorted(set(LEVELS)):
        shares = np.arange(levels, 0, -1) / (levels * (levels + 1) / 2)
        for _ in range(replicates):
            reference, current = (
                {str(k): int(n) for k, n in enumerate(rng.multinomial(rows, shares))}
                for _ in range(2)
            )
            flagged["goodness_of_fit"] += goodness_of_fit(reference, current)[1] < ALPHA
            flagged["two_sample"] += chi2_test(reference, current)[1] < ALPHA
            trials += 1
    return {test: n / trials for test, n in flagged.items()}
