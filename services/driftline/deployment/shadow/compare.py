"""Shadow comparison, pure: the challenger's answers to mirrored requests vs the champion's.

Agreement is measured on the pairs both answered: for classes the share of equal labels, for
scores (regression) Pearson's correlation, with the mean absolute difference beside it. The
shadow verdict is the canary judge's (error rate, latency, prediction distribution, accuracy
on labelled requests) plus an ``agreement`` check, critical when a minimum is set.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from driftline.deployment.prediction_log.rows import LoggedRow
from driftline.deployment.rollout.judge.reports import JudgeConfig, JudgeReport, MetricCheck, Sample
from driftline.deployment.rollout.judge.rule import judge_checks, judge_metrics
from driftline.deployment.rollout.judge.window import judge_config, sample
from driftline.deployment.settings import DeploymentSection
from driftline_contracts.modelspec import CanaryPolicy


class Agreement(BaseModel):
    """How closely the challenger's answers follow the champion's on the same requests."""

    model_config = ConfigDict(frozen=True)

    pairs: int = Field(ge=0, description="Requests both answered without error.")
    kind: Literal["classes", "scores"] = Field(description="Labels or numeric predictions.")
    agreement: float | None = Field(
        description="classes: share of equal labels; scores: correlation (null: undefined)."
    )
    mean_abs_diff: float | None = Field(None, description="scores: mean |champion - shadow|.")
    correlation: float | None = Field(None, description="scores: Pearson correlation.")


def _same(a: Any, b: Any) -> bool:
    return bool(a == b or str(a) == str(b))


def agreement(
    champion: Sequence[Any], shadow: Sequence[Any], kind: Literal["classes", "scores"]
) -> Agreement:
    """Agreement of paired predictions (``champion[i]`` and ``shadow[i]`` answer one request)."""
    pairs = len(champion)
    if pairs == 0:
        return Agreement(pairs=0, kind=kind, agreement=None)
    if kind == "classes":
        equal = sum(_same(a, b) for a, b in zip(champion, shadow, strict=True))
        return Agreement(pairs=pairs, kind=kind, agreement=equal / pairs)
    a, b = np.asarray(champion, dtype=float), np.asarray(shadow, dtype=float)
    diff = float(np.mean(np.abs(a - b)))
    correlation = None
    if pairs >= 2 and np.std(a) > 0 and np.std(b) > 0:
        r = float(np.corrcoef(a, b)[0, 1])
        correlation = r if math.isfinite(r) else None
    level = 1.0 if diff == 0 else correlation
    return Agreement(
        pairs=pairs, kind=kind, agreement=level, mean_abs_diff=diff, correlation=correlation
    )


def agreement_check(found: Agreement, minimum: float | None, config: JudgeConfig) -> MetricCheck:
    """``agreement``: low (critical) below ``minimum``; informational when no minimum is set."""
    if found.pairs < config.min_samples or found.agreement is None:
        outcome, passed = "nodata", None
    elif minimum is None:
        outcome, passed = "info", None
    else:
        passed = found.agreement >= minimum
        outcome = "pass" if passed else "low"
    return MetricCheck(
        metric="agreement",
        champion=minimum,
        canary=found.agreement,
        p_value=None,
        samples=found.pairs,
        outcome=outcome,
        passed=passed,
        critical=minimum is not None,
    )


def judge_shadow(
    champion: Sample,
    shadow: Sample,
    found: Agreement,
    config: JudgeConfig,
    min_agreement: float | None = None,
) -> JudgeReport:
    """The canary judge's checks on the paired traffic, plus agreement; score and verdict."""
    checks = [
        *judge_metrics(champion, shadow, config),
        agreement_check(found, min_agreement, config),
    ]
    return judge_checks(checks, config)


def shadow_agreement(pairs: Sequence[tuple[LoggedRow, LoggedRow]], kind: str) -> Agreement:
    """Agreement over the pairs both variants answered without error."""
    both = [(c, s) for c, s in pairs if c.error is None and s.error is None]
    return agreement(
        [c.prediction for c, _ in both],
        [s.prediction for _, s in both],
        "classes" if kind == "classes" else "scores",
    )


def judge_pairs(
    pairs: Sequence[tuple[LoggedRow, LoggedRow]],
    section: DeploymentSection,
    min_agreement: float | None,
    policy: CanaryPolicy | None = None,
    drift_retrain: bool = False,
) -> tuple[JudgeReport, Agreement]:
    """Judge the shadow's answers against the champion's on exactly the mirrored requests."""
    rows = [row for pair in pairs for row in pair]
    config = judge_config(rows, section, policy, drift_retrain)
    kind = config.prediction_kind
    found = shadow_agreement(pairs, kind)
    champion, shadow = sample(rows, "champion", kind), sample(rows, "shadow", kind)
    return judge_shadow(champion, shadow, found, config, min_agreement), found
