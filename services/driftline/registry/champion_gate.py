"""The beat_champion gate, decided on the run's same-rows comparison (pure).

Training scores the serving champion on the candidate's own holdout rows and sends, per
metric, both values and a 95% paired-bootstrap interval of candidate - champion. With the
improvement I = candidate - champion (champion - candidate for errors and losses, where lower
is better) and its interval [low, high], a gate with margin m:

* m <= 0, "not worse" (allowing |m| worse): fails only when high < m, i.e. the whole interval
  says the candidate is worse than allowed. A tie (an interval around 0) passes.
* m > 0, "a strict win by m": passes only when low >= m, i.e. the whole interval says the
  candidate is better by at least m. A tie fails.

Noise is called neither a win nor a loss. Without a comparison (no champion yet, its artifact
unreadable, an older training service) the gate is not judged and a note says so: the
absolute gates alone decide.
"""

from __future__ import annotations

from dataclasses import dataclass

from driftline_contracts.events.training import ChampionComparison, MetricComparison
from driftline_contracts.values import GateResult

_TOLERANCE = 1e-12  # a bound met exactly must not fail on float rounding
LOWER_IS_BETTER = frozenset({"rmse", "mae", "log_loss", "mse"})


@dataclass(frozen=True)
class ChampionJudgement:
    """The gate's result (None: not judged), why it failed, and a note for the record."""

    result: GateResult | None
    failure: str | None
    note: str


def lower_is_better(metric: str) -> bool:
    """Whether smaller values of ``metric`` are better (losses and errors)."""
    return metric.lower() in LOWER_IS_BETTER


def improvement(metric: str, found: MetricComparison) -> tuple[float, float, float]:
    """How much better the candidate is (point, low, high): positive means better."""
    if lower_is_better(metric):
        return -found.delta, -found.interval_high, -found.interval_low
    return found.delta, found.interval_low, found.interval_high


def passes(margin: float, low: float, high: float) -> bool:
    """The rule above: not worse beyond noise (m <= 0), or a win beyond noise by m (m > 0)."""
    if margin > 0:
        return low >= margin - _TOLERANCE
    return high >= margin - _TOLERANCE


def describe(found: MetricComparison, check: ChampionComparison, margin: float) -> str:
    """``rmse 583 vs champion v3's 564.3 on the same 2000 rows: ...`` for people."""
    version = check.champion.version if check.champion else "?"
    _, low, high = improvement(found.metric, found)
    if margin > 0:
        verdict = (f"a win of at least {margin:g} is shown" if passes(margin, low, high)
                   else f"a win of at least {margin:g} is not shown")  # fmt: skip
    elif not passes(margin, low, high):
        verdict = "worse beyond noise"
    else:
        verdict = "better beyond noise" if low > 0 else "a tie within noise"
    direction = "lower" if lower_is_better(found.metric) else "higher"
    return (
        f"{found.metric} {found.candidate:.6g} vs champion v{version}'s {found.champion:.6g} on "
        f"the same {check.rows} holdout rows: difference {found.delta:+.4g}, "
        f"{check.confidence:.0%} interval [{found.interval_low:+.4g}, {found.interval_high:+.4g}]"
        f" ({direction} is better): {verdict}"
    )


def _not_judged(gate: str, why: str) -> ChampionJudgement:
    return ChampionJudgement(None, None, f"{gate} not judged: {why}; absolute gates decide")


def judge(metric: str, margin: float, check: ChampionComparison | None) -> ChampionJudgement:
    """The beat_champion gate on ``metric`` from the run's comparison."""
    gate = f"beat_champion_{metric}"
    if check is None:
        return _not_judged(gate, "the run carries no same-rows comparison with the champion")
    if check.status != "compared":
        return _not_judged(gate, check.message)
    found = next((m for m in check.metrics if m.metric == metric), None)
    if found is None:
        return _not_judged(gate, f"the comparison has no {metric!r}")
    _, low, high = improvement(metric, found)
    passed = passes(margin, low, high)
    result = GateResult(
        gate=gate, metric=metric, kind="beat_champion", threshold=margin,
        observed=found.candidate, champion=found.champion, passed=passed,
        interval_low=found.interval_low, interval_high=found.interval_high, rows=check.rows,
    )  # fmt: skip
    text = describe(found, check, margin)
    return ChampionJudgement(result, None if passed else text, f"{gate}: {text}")
