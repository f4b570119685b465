"""Quality gates: absolute bounds; beat_champion on the same rows (intervals); no champion."""

from __future__ import annotations

import pytest

from driftline.registry.core import evaluate_gates, initial_status, lower_is_better, next_version
from driftline_contracts.events.training import ChampionComparison, MetricComparison
from driftline_contracts.modelspec import GateSpec
from driftline_contracts.values import ModelRef


def gate(**kwargs: object) -> GateSpec:
    return GateSpec.model_validate(kwargs)


def test_minimum_passes_at_the_bound_and_fails_below() -> None:
    gates = [gate(metric="accuracy", min=0.8)]
    assert evaluate_gates(gates, {"accuracy": 0.8}, None).passed
    verdict = evaluate_gates(gates, {"accuracy": 0.79}, None)
    assert not verdict.passed
    assert [(r.gate, r.kind, r.threshold, r.observed, r.passed) for r in verdict.results] == [
        ("min_accuracy", "minimum", 0.8, 0.79, False)
    ]
    assert verdict.reasons[0].code == "gate.min_accuracy"
    assert "below the minimum 0.8" in verdict.reasons[0].message


def test_maximum_on_an_error_metric() -> None:
    verdict = evaluate_gates([gate(metric="rmse", max=2.0)], {"rmse": 2.5}, None)
    assert [r.code for r in verdict.reasons] == ["gate.max_rmse"]


def compared(
    metric: str,
    candidate: float,
    champion: float,
    low: float,
    high: float,
    version: int = 3,
    rows: int = 2000,
) -> ChampionComparison:
    """A run's comparison: ``low``/``high`` bound candidate - champion on the same rows."""
    found = MetricComparison(
        metric=metric,
        candidate=candidate,
        champion=champion,
        delta=candidate - champion,
        interval_low=low,
        interval_high=high,
    )
    return ChampionComparison(
        status="compared",
        champion=ModelRef(name="m", version=version),
        message="compared",
        rows=rows,
        resamples=1000,
        metrics=[found],
    )


def test_the_issue_case_an_rmse_within_noise_of_the_champion_is_a_tie_and_passes() -> None:
    """rmse 583.0 against the champion's 564.3 on the *same* rows, interval across 0."""
    gates = [gate(metric="rmse", beat_champion=0.0)]
    verdict = evaluate_gates(gates, {"rmse": 583.0}, compared("rmse", 583.0, 564.3, -9.0, 45.0))
    assert verdict.passed
    (result,) = verdict.results
    assert (result.kind, result.observed, result.champion) == ("beat_champion", 583.0, 564.3)
    assert (result.interval_low, result.interval_high, result.rows) == (-9.0, 45.0, 2000)
    assert "a tie within noise" in verdict.notes[0]
    assert "champion v3's 564.3 on the same 2000 holdout rows" in verdict.notes[0]


@pytest.mark.parametrize("metric", ["rmse", "mae", "log_loss", "mse"])
def test_an_error_worse_beyond_noise_fails_and_better_passes(metric: str) -> None:
    gates = [gate(metric=metric, beat_champion=0.0)]
    worse = evaluate_gates(gates, {metric: 1.3}, compared(metric, 1.3, 1.2, 0.02, 0.18))
    better = evaluate_gates(gates, {metric: 1.0}, compared(metric, 1.0, 1.2, -0.3, -0.1))
    assert not worse.passed
    assert worse.reasons[0].code == f"gate.beat_champion_{metric}"
    assert "(lower is better): worse beyond noise" in worse.reasons[0].message
    assert better.passed
    assert "better beyond noise" in better.notes[0]
    assert lower_is_better(metric)


def test_a_higher_is_better_metric_worse_beyond_noise_fails_with_zero_margin() -> None:
    gates = [gate(metric="accuracy", beat_champion=0)]
    verdict = evaluate_gates(gates, {"accuracy": 0.7},
                             compared("accuracy", 0.7, 0.8, -0.14, -0.06))  # fmt: skip
    assert not verdict.passed
    assert "[-0.14, -0.06]" in verdict.reasons[0].message


def test_a_positive_margin_demands_a_win_beyond_noise_of_that_size() -> None:
    gates = [gate(metric="f1", beat_champion=0.01)]
    tie = compared("f1", 0.905, 0.90, -0.01, 0.02)
    small = compared("f1", 0.93, 0.90, 0.005, 0.05)
    clear = compared("f1", 0.95, 0.90, 0.01, 0.09)  # low end exactly at the margin
    assert not evaluate_gates(gates, {"f1": 0.905}, tie).passed
    assert not evaluate_gates(gates, {"f1": 0.93}, small).passed
    verdict = evaluate_gates(gates, {"f1": 0.95}, clear)
    assert verdict.passed
    assert verdict.results[0].threshold == 0.01


def test_a_negative_margin_allows_that_much_worse() -> None:
    gates = [gate(metric="accuracy", beat_champion=-0.05)]
    assert evaluate_gates(gates, {"accuracy": 0.8},
                          compared("accuracy", 0.8, 0.85, -0.09, -0.01)).passed  # fmt: skip
    assert not evaluate_gates(gates, {"accuracy": 0.7},
                              compared("accuracy", 0.7, 0.85, -0.2, -0.1)).passed  # fmt: skip


@pytest.mark.parametrize(
    ("comparison", "why"),
    [
        (None, "the run carries no same-rows comparison with the champion"),
        (
            ChampionComparison(status="no_champion", message="no version was promoted yet"),
            "no version was promoted yet",
        ),
        (
            ChampionComparison(
                status="unavailable",
                champion=ModelRef(name="m", version=2),
                message="champion v2: its artifact could not be read",
            ),
            "champion v2: its artifact could not be read",
        ),
        (compared("f1", 0.9, 0.9, -0.1, 0.1), "the comparison has no 'accuracy'"),
    ],
)
def test_without_a_comparison_only_absolute_gates_decide_and_a_note_says_so(
    comparison: ChampionComparison | None, why: str
) -> None:
    gates = [gate(metric="accuracy", min=0.8, beat_champion=0.05)]
    verdict = evaluate_gates(gates, {"accuracy": 0.85}, comparison)
    assert verdict.passed
    assert [r.kind for r in verdict.results] == ["minimum"]
    assert verdict.notes == [f"beat_champion_accuracy not judged: {why}; absolute gates decide"]
    assert not evaluate_gates(gates, {"accuracy": 0.7}, comparison).passed


def test_one_gate_with_all_three_rules_gives_three_results() -> None:
    gates = [gate(metric="accuracy", min=0.5, max=0.99, beat_champion=0.0)]
    verdict = evaluate_gates(gates, {"accuracy": 0.9},
                             compared("accuracy", 0.9, 0.95, -0.08, -0.02))  # fmt: skip
    assert [(r.kind, r.passed) for r in verdict.results] == [
        ("minimum", True), ("maximum", True), ("beat_champion", False),
    ]  # fmt: skip


def test_a_gate_on_a_missing_metric_fails_naming_it() -> None:
    verdict = evaluate_gates([gate(metric="roc_auc", min=0.7)], {"accuracy": 0.9}, None)
    assert not verdict.passed
    assert (verdict.reasons[0].code, verdict.reasons[0].field) == (
        "gate.missing_roc_auc",
        "roc_auc",
    )


def test_reason_codes_stay_valid_for_odd_metric_names() -> None:
    verdict = evaluate_gates(
        [gate(metric="ROC-AUC (macro)", min=0.9)], {"ROC-AUC (macro)": 0.1}, None
    )
    assert verdict.reasons[0].code == "gate.min_roc_auc__macro_"


def test_status_follows_gates_and_approval_policy() -> None:
    passed = evaluate_gates([], {}, None)
    failed = evaluate_gates([gate(metric="a", min=1)], {"a": 0}, None)
    assert initial_status(passed, "automatic") == "approved"
    assert initial_status(passed, "manual") == "pending"
    assert initial_status(failed, "manual") == "rejected"
    assert next_version(0) == 1
    assert next_version(4) == 5
