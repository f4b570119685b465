"""Simulated canary windows and the judge's error rates on them, seed by seed.

Run ``.venv/bin/python -m tests.unit.deployment.judge_windows`` to print the rates of every
scenario at the default thresholds (the table in docs/deployment.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from driftline.deployment.rollout.judge.reports import JudgeConfig, Sample
from driftline.deployment.rollout.judge.rule import judge_canary

SMALL = (300, 100)
"""A 25% step of 400 labelled rows: the champion serves three for each of the canary's."""
LARGE = (500, 500)
"""A 50% step of 1000 labelled rows."""


def _latencies(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.gamma(4.0, 2.5, n)


def regression_sample(
    rng: np.random.Generator, n: int, *, error_sd: float, shift: float = 0.0
) -> Sample:
    """A regressor's rows: predictions around ``shift``, errors N(0, error_sd)."""
    errors = rng.normal(0.0, error_sd, n)
    return Sample(
        requests=n,
        errors=0,
        latencies_ms=_latencies(rng, n),
        predictions=tuple(rng.normal(10.0 + shift, 2.0, n).tolist()),
        abs_errors=np.abs(errors),
    )


def classifier_sample(
    rng: np.random.Generator, n: int, *, accuracy: float, positive: float = 0.4
) -> Sample:
    """A calibrated classifier's rows: confidence around ``accuracy``, right that often."""
    confidence = np.clip(rng.normal(accuracy, 0.05, n), 0.5, 0.999)
    return Sample(
        requests=n,
        errors=0,
        latencies_ms=_latencies(rng, n),
        predictions=tuple(int(v) for v in rng.random(n) < positive),
        correct=rng.random(n) < confidence,
        confidence=confidence,
    )


def one_class_sample(rng: np.random.Generator, n: int, *, positive: float = 0.4) -> Sample:
    """A candidate that always predicts the majority class with the prior as confidence."""
    return Sample(
        requests=n,
        errors=0,
        latencies_ms=_latencies(rng, n),
        predictions=(0,) * n,
        correct=rng.random(n) >= positive,
        confidence=np.full(n, 1 - positive),
    )


Window = Callable[[np.random.Generator], tuple[Sample, Sample]]


@dataclass(frozen=True)
class Scenario:
    """A named pair of variants and the verdict a good judge gives it."""

    name: str
    window: Window
    expected: str
    config: JudgeConfig = field(default_factory=JudgeConfig)


def regression(canary_sd: float, shift: float = 0.0, rows: tuple[int, int] = SMALL) -> Window:
    """Champion errors N(0, 1); the canary's N(0, canary_sd), predictions moved by ``shift``."""

    def window(rng: np.random.Generator) -> tuple[Sample, Sample]:
        champion = regression_sample(rng, rows[0], error_sd=1.0)
        return champion, regression_sample(rng, rows[1], error_sd=canary_sd, shift=shift)

    return window


def classification(canary_accuracy: float, rows: tuple[int, int] = SMALL) -> Window:
    """Champion accuracy 0.85; the canary's ``canary_accuracy``; both calibrated."""

    def window(rng: np.random.Generator) -> tuple[Sample, Sample]:
        champion = classifier_sample(rng, rows[0], accuracy=0.85)
        return champion, classifier_sample(rng, rows[1], accuracy=canary_accuracy)

    return window


def one_class(rng: np.random.Generator) -> tuple[Sample, Sample]:
    """Champion accuracy 0.85; the canary always predicts the majority class."""
    champion = classifier_sample(rng, SMALL[0], accuracy=0.85)
    return champion, one_class_sample(rng, SMALL[1])


REGRESSION = JudgeConfig(prediction_kind="scores")
DRIFT = JudgeConfig(prediction_kind="scores", drift_retrain=True)
SCENARIOS = (
    Scenario("regression 300/100, RMSE 30% lower", regression(0.7), "pass", REGRESSION),
    Scenario("regression 300/100, equal", regression(1.0), "pass", REGRESSION),
    Scenario("regression 300/100, RMSE 2x", regression(2.0), "fail", REGRESSION),
    Scenario("regression 300/100, RMSE +50%", regression(1.5), "fail", REGRESSION),
    Scenario("regression 300/100, RMSE +20%", regression(1.2), "fail", REGRESSION),
    Scenario("regression 500/500, RMSE +20%", regression(1.2, rows=LARGE), "fail", REGRESSION),
    Scenario(
        "regression 300/100, RMSE +3% (within tolerance)", regression(1.03), "pass", REGRESSION
    ),
    Scenario(
        "drift retrain 300/100, RMSE 30% lower, predictions shifted",
        regression(0.7, 1.0),
        "pass",
        DRIFT,
    ),
    Scenario("same, not known as a drift retrain", regression(0.7, 1.0), "pass", REGRESSION),
    Scenario("classification 300/100, accuracy 0.85 -> 0.93", classification(0.93), "pass"),
    Scenario("classification 300/100, equal (0.85)", classification(0.85), "pass"),
    Scenario("classification 300/100, accuracy 0.85 -> 0.60", classification(0.60), "fail"),
    Scenario("classification 300/100, accuracy 0.85 -> 0.70", classification(0.70), "fail"),
    Scenario("classification 300/100, accuracy 0.85 -> 0.78", classification(0.78), "fail"),
    Scenario("classification 500/500, accuracy 0.85 -> 0.78", classification(0.78, LARGE), "fail"),
    Scenario("classification 300/100, always one class", one_class, "fail"),
)


def verdicts(scenario: Scenario, seeds: Iterable[int]) -> Counter[str]:
    """How often the judge passed, held (marginal) or failed the scenario, one window a seed."""
    found: Counter[str] = Counter()
    for seed in seeds:
        champion, canary = scenario.window(np.random.default_rng(seed))
        found[judge_canary(champion, canary, scenario.config).verdict] += 1
    return found


def main(seeds: int = 300) -> None:
    """Print every scenario's verdict counts as a markdown table."""
    print("| scenario | expected | pass | marginal | fail | error rate |")
    print("|---|---|---|---|---|---|")
    for scenario in SCENARIOS:
        found = verdicts(scenario, range(seeds))
        wrong = seeds - found[scenario.expected]
        print(
            f"| {scenario.name} | {scenario.expected} | {found['pass']} | {found['marginal']}"
            f" | {found['fail']} | {wrong}/{seeds} |"
        )


if __name__ == "__main__":
    main()
