"""From logged rows to the judge: samples by task, policy thresholds, the drift trigger."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from driftline.deployment.prediction_log.rows import LoggedRow
from driftline.deployment.rollout.events import rolled_back, step_advanced
from driftline.deployment.rollout.judge.window import (
    is_drift_retrain,
    judge_config,
    judge_rows,
    sample,
)
from driftline.deployment.settings import DeploymentSection
from driftline_contracts.envelope import Envelope
from driftline_contracts.events.deployment import CanaryRolledBack
from driftline_contracts.modelspec import CanaryPolicy
from tests.unit.deployment.test_core import T0

SECTION = DeploymentSection()


def _row(
    i: int,
    variant: str,
    prediction: Any,
    label: Any = None,
    *,
    score: float | None = None,
    latency: float = 5.0,
    error: str | None = None,
) -> LoggedRow:
    return LoggedRow(
        id=i, request_id=f"r{i}", model="m", version=2 if variant == "canary" else 1,
        variant=variant, features={"x": 1.0}, prediction=prediction, score=score,
        latency_ms=latency, error=error, created_at=T0, label=label, labelled=label is not None,
    )  # fmt: skip


def _regression_rows(seed: int, canary_sd: float, shift: float, n: int = 200) -> list[LoggedRow]:
    """Labels y; champion predicts y + N(0, 1), canary y + shift-free N(0, canary_sd) but its
    predictions (hence their distribution) move with the drifted inputs by ``shift``."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        variant = "canary" if i % 2 else "champion"
        y = float(rng.normal(10.0 + (shift if variant == "canary" else 0.0), 2.0))
        sd = canary_sd if variant == "canary" else 1.0
        rows.append(_row(i, variant, y + float(rng.normal(0, sd)), y))
    return rows


def _envelope(correlation: str) -> Envelope:
    return Envelope(
        source="driftline/registry",
        type="io.driftline.registry.approved.v1",
        subject="m",
        correlationid=correlation,
        actor="service:registry",
    )


def test_the_drift_trigger_comes_from_the_correlation_id() -> None:
    assert is_drift_retrain(_envelope("drift-0123456789abcdef0123456789abcdef"))
    assert not is_drift_retrain(_envelope("3f0c9a52-6c1b-4a4c-9b4c-0a9c5c1d2e3f"))
    assert not is_drift_retrain(None)


def test_a_better_drift_retrain_with_moved_predictions_is_promoted() -> None:
    """The reported regression case: the retrain predicts differently because the data moved."""
    rows = _regression_rows(1, canary_sd=0.6, shift=3.0)
    report = judge_rows(rows, SECTION, CanaryPolicy(), drift_retrain=True)
    shift = report.check("prediction_distribution")
    assert shift is not None
    assert (shift.outcome, shift.passed) == ("info", None)
    assert shift.p_value is not None
    assert shift.p_value < 1e-6
    assert report.verdict == "pass"
    assert report.drift_retrain


def test_without_the_trigger_a_large_shift_still_counts() -> None:
    report = judge_rows(_regression_rows(1, canary_sd=0.6, shift=3.0), SECTION)
    shift = report.check("prediction_distribution")
    assert shift is not None
    assert shift.outcome == "high"
    assert report.verdict == "marginal"


def test_a_worse_drift_retrain_is_rolled_back_on_its_errors() -> None:
    report = judge_rows(_regression_rows(2, canary_sd=3.0, shift=3.0), SECTION, drift_retrain=True)
    assert report.verdict == "fail"
    assert {r.code for r in report.reasons()} == {"mae_higher", "rmse_higher"}


def test_without_labels_the_prediction_shift_decides_even_for_a_drift_retrain() -> None:
    rows = [_row(r.id, r.variant, r.prediction) for r in _regression_rows(3, 0.6, 3.0)]
    report = judge_rows(rows, SECTION, drift_retrain=True)
    shift = report.check("prediction_distribution")
    assert shift is not None
    assert (shift.outcome, shift.passed) == ("high", False)


def test_regression_samples_skip_labels_that_are_not_numbers() -> None:
    rows = [
        _row(1, "canary", 2.5, 2.0),
        _row(2, "canary", 2.5, "n/a"),
        _row(3, "canary", 2.5, True),
        _row(4, "canary", None, 1.0),
        _row(5, "canary", 2.5, "inf"),
        _row(6, "canary", 2.5, "1e3"),
        _row(7, "canary", None, None, error="boom"),
    ]
    found = sample(rows, "canary", "scores")
    assert found.abs_errors.tolist() == pytest.approx([0.5, 997.5])
    assert (found.requests, found.errors, len(found.predictions)) == (7, 1, 6)


def test_classifier_samples_carry_correctness_and_confidence() -> None:
    rows = [_row(1, "champion", "a", "a", score=0.8), _row(2, "champion", "a", "b")]
    found = sample(rows, "champion", "classes")
    assert found.correct.tolist() == [True, False]
    assert found.confidence[0] == 0.8
    assert np.isnan(found.confidence[1])


def test_policy_thresholds_reach_the_judge() -> None:
    policy = CanaryPolicy(latency_budget_ms=40.0, error_tolerance=0.1, latency_max_increase=2.0)
    config = judge_config([_row(1, "canary", 1.5)], SECTION, policy, drift_retrain=True)
    assert (config.latency_budget_ms, config.error_tolerance) == (40.0, 0.1)
    assert (config.latency_allowed_increase, config.drift_retrain) == (2.0, True)
    assert config.prediction_kind == "scores"
    default = judge_config([_row(1, "canary", "yes")], SECTION)
    assert default.latency_allowed_increase == SECTION.latency_allowed_increase
    assert default.prediction_kind == "classes"


def test_events_carry_the_trigger_and_the_intervals() -> None:
    from tests.unit.deployment.test_shadow import _canary

    canary = _canary(0, CanaryPolicy(steps=[25.0, 100.0]))
    report = judge_rows(_regression_rows(2, canary_sd=3.0, shift=0.0), SECTION, drift_retrain=True)
    event = rolled_back(canary, report, report.reasons(), T0)
    assert event.drift_retrain is True
    mae = next(r for r in event.results if r.metric == "mae")
    assert mae.delta_low is not None
    assert mae.delta_low > 0.05
    again = CanaryRolledBack.model_validate_json(event.model_dump_json())
    assert again == event
    passed = judge_rows(_regression_rows(1, 0.6, 0.0), SECTION)
    assert step_advanced(canary, passed, T0).drift_retrain is False
