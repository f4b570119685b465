"""The judge's inputs from logged rows: each variant's sample, the thresholds, the trigger.

Pure: rows, settings and the canary policy in, ``Sample`` and ``JudgeConfig`` out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from driftline.deployment.prediction_log.rows import LoggedRow
from driftline.deployment.rollout.judge.reports import JudgeConfig, JudgeReport, Sample
from driftline.deployment.rollout.judge.rule import judge_canary
from driftline.deployment.settings import DeploymentSection
from driftline_contracts.envelope import Envelope
from driftline_contracts.modelspec import CanaryPolicy

# monitoring's drift_id_for: a drift episode's id, the correlation id of what answers it.
DRIFT_CORRELATION_PREFIX = "drift-"


def _same(label: Any, prediction: Any) -> bool:
    return bool(label == prediction or str(label) == str(prediction))


def _number(value: Any) -> float:
    """A logged prediction or label as a float (NaN when it is not a number)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return math.nan
    try:
        return float(value)
    except ValueError:
        return math.nan


def _confidence(row: LoggedRow) -> float:
    return math.nan if row.score is None else float(row.score)


def sample(rows: Sequence[LoggedRow], variant: str, kind: str = "classes") -> Sample:
    """One variant's rows as the judge's arrays (labelled ones by the model's ``kind``)."""
    mine = [r for r in rows if r.variant == variant]
    served = [r for r in mine if r.error is None]
    labelled = [r for r in served if r.labelled]
    correct = np.array([_same(r.label, r.prediction) for r in labelled], dtype=bool)
    abs_errors = np.empty(0)
    if kind == "scores":
        errors = [abs(_number(r.prediction) - _number(r.label)) for r in labelled]
        abs_errors = np.array([e for e in errors if math.isfinite(e)], dtype=float)
    return Sample(
        requests=len(mine),
        errors=len(mine) - len(served),
        latencies_ms=np.array([r.latency_ms for r in mine], dtype=float),
        predictions=tuple(r.prediction for r in served),
        correct=correct,
        confidence=np.array([_confidence(r) for r in labelled], dtype=float),
        abs_errors=abs_errors,
    )


def is_drift_retrain(cause: Envelope | None) -> bool:
    """Whether the rollout answers a drift episode: monitoring gives a DriftDetected the
    episode's id (``drift-<uuid>``) as correlation id, and the retrain, its approval and
    this canary carry it on."""
    return cause is not None and cause.correlationid.startswith(DRIFT_CORRELATION_PREFIX)


def judge_config(
    rows: Sequence[LoggedRow],
    section: DeploymentSection,
    policy: CanaryPolicy | None = None,
    drift_retrain: bool = False,
) -> JudgeConfig:
    """The judge's thresholds: alpha and MIN_LABELS from the service, the rest from the policy."""
    policy = policy or CanaryPolicy()
    classes = any(r.score is not None or isinstance(r.prediction, str | bool) for r in rows)
    increase = policy.latency_max_increase
    return JudgeConfig(
        alpha=section.judge_alpha,
        latency_allowed_increase=(
            section.latency_allowed_increase if increase is None else increase
        ),
        latency_budget_ms=policy.latency_budget_ms,
        min_labels=section.min_labels,
        error_tolerance=policy.error_tolerance,
        accuracy_tolerance=policy.accuracy_tolerance,
        brier_tolerance=policy.brier_tolerance,
        shift_min_effect=policy.shift_min_effect,
        drift_retrain=drift_retrain,
        prediction_kind="classes" if classes else "scores",
    )


def judge_rows(
    rows: Sequence[LoggedRow],
    section: DeploymentSection,
    policy: CanaryPolicy | None = None,
    drift_retrain: bool = False,
) -> JudgeReport:
    """Judge the canary's rows against the champion's from the same window."""
    config = judge_config(rows, section, policy, drift_retrain)
    kind = config.prediction_kind
    return judge_canary(sample(rows, "champion", kind), sample(rows, "canary", kind), config)
