"""Registry decisions as pure functions: version numbers, quality gates, approval, aliases."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from driftline.registry.champion_gate import LOWER_IS_BETTER as LOWER_IS_BETTER
from driftline.registry.champion_gate import judge
from driftline.registry.champion_gate import lower_is_better as lower_is_better
from driftline.registry.models import Approval, ModelVersion, Status
from driftline_contracts.events.training import ChampionComparison
from driftline_contracts.modelspec import GateSpec
from driftline_contracts.values import GateResult, Reason

APPROVER_ROLE = "approver"
GATES_ACTOR = "service:registry"
"""Who decides by gates (``events.REGISTRY_ACTOR``)."""
Bound = Literal["minimum", "maximum"]
_TOLERANCE = 1e-12  # a margin met exactly must not fail on float rounding


class DecisionRefusedError(Exception):
    """Base of the reasons a person may not approve or reject a version."""


class NotAnApproverError(DecisionRefusedError):
    """The caller lacks the approver role."""


class SelfApprovalError(DecisionRefusedError):
    """The caller trained the version; four eyes are required."""


class NotPendingError(DecisionRefusedError):
    """The version was already approved or rejected."""


class NotOverridableError(DecisionRefusedError):
    """Only a version its gates rejected can be approved over them, and only with a reason."""


@dataclass(frozen=True)
class GateVerdict:
    """Every gate result, the reasons of the failures and notes (e.g. no champion yet)."""

    results: list[GateResult] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when no gate failed."""
        return not self.reasons


def next_version(latest: int) -> int:
    """The number a new version gets after ``latest`` (0 when the model has none)."""
    return latest + 1


def reason_code(gate: str) -> str:
    """Machine-readable reason code for a failed gate, e.g. ``gate.min_accuracy``."""
    return "gate." + re.sub(r"[^a-z0-9_.]", "_", gate.lower())[:59]


def _absolute_results(gate: GateSpec, observed: float) -> list[GateResult]:
    """The gate's minimum and maximum checks, those it sets."""
    bounds: list[tuple[Bound, float | None]] = [("minimum", gate.min), ("maximum", gate.max)]
    return [_absolute(gate.metric, kind, bound, observed)
            for kind, bound in bounds if bound is not None]  # fmt: skip


def _absolute(metric: str, kind: Bound, bound: float, observed: float) -> GateResult:
    passed = observed >= bound - _TOLERANCE if kind == "minimum" else observed <= bound + _TOLERANCE
    prefix = "min" if kind == "minimum" else "max"
    return GateResult(gate=f"{prefix}_{metric}", metric=metric, kind=kind,
                      threshold=bound, observed=observed, passed=passed)  # fmt: skip


def _explain(result: GateResult) -> str:
    word = "below the minimum" if result.kind == "minimum" else "above the maximum"
    return f"{result.metric} {result.observed:g} is {word} {result.threshold:g}"


def evaluate_gates(
    gates: Sequence[GateSpec],
    metrics: Mapping[str, float],
    comparison: ChampionComparison | None,
) -> GateVerdict:
    """Check a candidate's metrics against the spec's gates, and against the champion on the
    same holdout rows (``champion_gate``: the run's paired-bootstrap comparison)."""
    verdict = GateVerdict()
    for gate in gates:
        observed = metrics.get(gate.metric)
        if observed is None:
            verdict.reasons.append(Reason(code=reason_code(f"missing_{gate.metric}"),
                                          message=f"the candidate has no metric {gate.metric!r}",
                                          field=gate.metric))  # fmt: skip
            continue
        results = _absolute_results(gate, observed)
        verdict.results.extend(results)
        verdict.reasons.extend(Reason(code=reason_code(r.gate), message=_explain(r),
                                      field=r.metric) for r in results if not r.passed)  # fmt: skip
        if gate.beat_champion is not None:
            _champion_gate(verdict, gate.metric, gate.beat_champion, comparison)
    return verdict


def _champion_gate(
    verdict: GateVerdict, metric: str, margin: float, comparison: ChampionComparison | None
) -> None:
    judgement = judge(metric, margin, comparison)
    verdict.notes.append(judgement.note)
    if judgement.result is not None:
        verdict.results.append(judgement.result)
    if judgement.failure is not None:
        verdict.reasons.append(Reason(code=reason_code(f"beat_champion_{metric}"),
                                      message=judgement.failure, field=metric))  # fmt: skip


def initial_status(verdict: GateVerdict, approval: Approval) -> Status:
    """Failed gates reject; passed gates approve, or wait for a person under manual approval."""
    if not verdict.passed:
        return "rejected"
    return "approved" if approval == "automatic" else "pending"


def check_manual_decision(
    version: ModelVersion, actor: str, role: str | None, spec_applier: str | None = None
) -> None:
    """Raise unless ``actor`` (an approver, not the trainer or spec applier) may decide."""
    check_decider(version, actor, role, spec_applier)
    if version.status != "pending":
        raise NotPendingError(f"{version.model} v{version.version} is already {version.status}")


def check_override(
    version: ModelVersion, actor: str, role: str | None, reason: str, spec_applier: str | None
) -> None:
    """Raise unless ``actor`` may approve ``version`` over its failed gates, saying why."""
    check_decider(version, actor, role, spec_applier)
    if version.status != "rejected" or version.decided_by != GATES_ACTOR:
        raise NotOverridableError(f"{version.model} v{version.version} is {version.status}"
                                  f" by {version.decided_by}; only a gate rejection can be "
                                  "overridden")  # fmt: skip
    if not reason.strip():
        raise NotOverridableError("an override needs a reason")


def check_decider(
    version: ModelVersion, actor: str, role: str | None, spec_applier: str | None = None
) -> None:
    """Raise unless ``actor`` is an approver who neither trained it nor applied its spec."""
    if role != APPROVER_ROLE:
        raise NotAnApproverError(f"deciding on a version needs the {APPROVER_ROLE!r} role")
    if actor in {version.trainer, version.trained_by, spec_applier}:
        raise SelfApprovalError(f"{actor} trained {version.model} v{version.version} or applied "
                                "its spec; another person must decide")  # fmt: skip


def promotion_aliases(new: int, previous: int | None, champion: int | None) -> dict[str, int]:
    """Aliases after a promotion: champion → new; previous → the replaced version, if any."""
    replaced = previous if previous is not None else champion
    aliases = {"champion": new}
    if replaced is not None and replaced != new:
        aliases["previous"] = replaced
    return aliases
