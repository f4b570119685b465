"""The drift benchmark's own checks: identical statistics where the methods coincide.

- the floor's KS (full frames) equals ``scipy.stats.ks_2samp`` on the full frames;
- Evidently forced to KS reports the same p-values as the floor (both full-frame KS);
- Driftline's KS statistics equal ``ks_2samp`` of the profile's sample against the window,
  and its p-values equal Benjamini-Hochberg over those and ``chi2_contingency`` p-values;
- Driftline's two-sample chi-square statistics and PSI equal the floor's (same counts).
- Driftline on the window read from the prediction log equals Driftline on the frame.

Each check reports its largest absolute difference; all must be within ``TOLERANCE``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from bench.drift_frames import CATEGORICAL, NUMERIC
from driftline.stats.drift import bh_adjusted
from driftline.stats.profile import DatasetProfile, profile_frame
from driftline.stats.twosample import psi

TOLERANCE = 1e-9


@dataclass(frozen=True)
class Check:
    """One comparison: what, over how many values, the largest absolute difference."""

    name: str
    values: int
    difference: float

    @property
    def ok(self) -> bool:
        """Within ``TOLERANCE``."""
        return self.difference <= TOLERANCE


def _largest(pairs: list[tuple[float, float]]) -> float:
    return max((abs(a - b) for a, b in pairs), default=float("inf"))


def run_checks(
    reference: pd.DataFrame, current: pd.DataFrame, floor: dict, driftline: dict, evidently_ks: dict
) -> list[Check]:
    """Every check on one (reference, current) pair and the three sides' outputs."""
    full = {n: stats.ks_2samp(reference[n], current[n]) for n in NUMERIC}
    ours = {f["feature"]: f for f in driftline["features"]}
    profile = profile_frame(reference, sha256="0" * 64)  # seeded: the worker's very profile
    sampled = _sampled_tests(profile, current)
    adjusted = dict(zip(sampled, bh_adjusted([p for _, p in sampled.values()]), strict=True))
    columns = floor["columns"]
    return [
        Check("floor KS statistic = scipy ks_2samp (full frames)", len(NUMERIC),
              _largest([(columns[n]["statistic"], full[n].statistic) for n in NUMERIC])),
        Check("floor KS p-value = scipy ks_2samp (full frames)", len(NUMERIC),
              _largest([(columns[n]["p_value"], full[n].pvalue) for n in NUMERIC])),
        Check("Evidently KS p-value = floor KS p-value", len(NUMERIC),
              _largest([(evidently_ks["columns"][n]["value"], columns[n]["p_value"])
                        for n in NUMERIC])),
        Check("Driftline KS statistic = scipy ks_2samp (profile sample vs window)", len(NUMERIC),
              _largest([(ours[n]["statistic"], sampled[n][0]) for n in NUMERIC])),
        Check("Driftline p-values = BH(scipy KS and chi2_contingency p-values)", len(adjusted),
              _largest([(ours[n]["p_value"], adjusted[n]) for n in adjusted])),
        Check("Driftline chi-square statistic = floor (two-sample, same counts)",
              len(CATEGORICAL),
              _largest([(ours[n]["statistic"], columns[n]["statistic"]) for n in CATEGORICAL])),
        Check("Driftline PSI = floor PSI (same 20 bins)", len(NUMERIC),
              _largest([(_psi(profile, current, n), columns[n]["psi"]) for n in NUMERIC])),
    ]  # fmt: skip


def log_check(driftline: dict, log: dict) -> Check:
    """The window read from the prediction log gives the frame's very statistics and verdicts
    (a different feature set or verdict counts as an infinite difference)."""
    ours, theirs = ({f["feature"]: f for f in side["features"]} for side in (driftline, log))
    name = "Driftline from the prediction log = on the frame (statistics, p-values, verdicts)"
    if ours.keys() != theirs.keys() or any(
        ours[n]["drifted"] != theirs[n]["drifted"] for n in ours
    ):
        return Check(name, len(ours), float("inf"))
    pairs = [_numbers(ours[n][k], theirs[n][k]) for n in ours for k in ("statistic", "p_value")]
    return Check(name, len(pairs), _largest(pairs))


def _numbers(a: float | None, b: float | None) -> tuple[float, float]:
    """A pair to compare: two Nones agree, a None against a number is infinitely apart."""
    if a is None or b is None:
        return (0.0, 0.0) if a is b else (0.0, float("inf"))
    return a, b


def _sampled_tests(profile: DatasetProfile, current: pd.DataFrame) -> dict:
    found = {}
    for column in profile.columns:
        if column.sample:
            result = stats.ks_2samp(np.asarray(column.sample), current[column.name])
        else:
            counts = current[column.name].value_counts()
            keys = sorted(set(column.categories or {}) | {str(k) for k in counts.index})
            table = [[(column.categories or {}).get(k, 0) for k in keys],
                     [int(counts.get(k, 0)) for k in keys]]  # fmt: skip
            result = stats.chi2_contingency(np.array(table), correction=False)
        found[column.name] = (float(result.statistic), float(result.pvalue))
    return found


def _psi(profile: DatasetProfile, current: pd.DataFrame, name: str) -> float:
    column = profile.column(name)
    histogram = column.histogram if column is not None else None
    if histogram is None:
        return float("nan")  # a numeric column without a histogram: the check then fails
    return psi(histogram, current[name].to_numpy())


def check_lines(checks: list[Check], rows: int) -> list[str]:
    """A Markdown table of the checks at one size."""
    lines = [f"| check ({rows:,} rows) | values | largest difference | within 1e-9 |",
             "|---|---:|---:|---|"]  # fmt: skip
    lines += [f"| {c.name} | {c.values} | {c.difference:.1e} | {'yes' if c.ok else 'NO'} |"
              for c in checks]  # fmt: skip
    return [*lines, ""]
