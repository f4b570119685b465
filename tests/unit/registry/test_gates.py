"""Quality gates: absolute bounds, beat_champion (higher and lower is better), no champion."""

from __future__ import annotations

import pytest

from driftline.registry.core import evaluate_gates, initial_status, lower_is_better, next_version
from driftline_contracts.modelspec import GateSpec


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


def test_beat_champion_higher_is_better_needs_the_margin() -> None:
    gates = [gate(metric="f1", beat_champion=0.01)]
    assert evaluate_gates(gates, {"f1": 0.91}, {"f1": 0.90}).passed  # exactly the margin
    verdict = evaluate_gates(gates, {"f1": 0.905}, {"f1": 0.90})
    assert not verdict.passed
    result = verdict.results[0]
    assert (result.kind, result.champion, result.threshold) == ("beat_champion", 0.90, 0.01)
    assert verdict.reasons[0].code == "gate.beat_champion_f1"


@pytest.mark.parametrize("metric", ["rmse", "mae", "log_loss", "mse"])
def test_beat_champion_lower_is_better_for_losses(metric: str) -> None:
    gates = [gate(metric=metric, beat_champion=0.0)]
    assert evaluate_gates(gates, {metric: 1.0}, {metric: 1.2}).passed
    assert not evaluate_gates(gates, {metric: 1.3}, {metric: 1.2}).passed
    assert lower_is_better(metric)


def test_higher_error_than_champion_is_worse_even_with_zero_margin() -> None:
    assert not evaluate_gates([gate(metric="accuracy", beat_champion=0)], {"accuracy": 0.7},
                              {"accuracy": 0.8}).passed  # fmt: skip


def test_no_champion_passes_with_a_note() -> None:
    verdict = evaluate_gates([gate(metric="accuracy", beat_champion=0.05)], {"accuracy": 0.5}, None)
    assert verdict.passed
    assert verdict.results[0].champion is None
    assert verdict.notes == ["beat_champion_accuracy passed: no champion accuracy to compare with"]


def test_one_gate_with_all_three_rules_gives_three_results() -> None:
    gates = [gate(metric="accuracy", min=0.5, max=0.99, beat_champion=0.0)]
    verdict = evaluate_gates(gates, {"accuracy": 0.9}, {"accuracy": 0.95})
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
