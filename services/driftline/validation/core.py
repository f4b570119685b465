"""Validation decisions: given a loaded frame, the specs and the baseline, accept or reject.

Everything here is pure (no I/O): the workflow loads, this module decides.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from driftline.stats.drift import FeatureDriftResult, compare_to_profile
from driftline.stats.expectations import (
    CheckResult,
    Expectations,
    check_frame,
    infer_expectations,
    merge_expectations,
)
from driftline.stats.inference import without_value_rules
from driftline.stats.profile import DatasetProfile
from driftline.validation.specs import SpecRecord
from driftline_contracts.events.data import SourceDialect
from driftline_contracts.values import Reason

INFERRED = "inferred"
"""Model label of checks against expectations inferred from the accepted versions."""
MAX_REASONS = 1000
MAX_TEXT = 2000
MAX_FIELD = 128


@dataclass(frozen=True)
class LoadOutcome:
    """A dataset object read into a frame, or the typed reason it could not be."""

    frame: pd.DataFrame | None
    failure: Reason | None = None
    about_bytes: bool = True
    """False when the failure concerns access (URI, missing object), not the bytes themselves."""
    dialect: SourceDialect | None = None
    """How the object was read, when it was."""


@dataclass(frozen=True)
class ModelCheck:
    """One check result and the model whose expectations asked for it."""

    model: str
    result: CheckResult


@dataclass(frozen=True)
class Verdict:
    """Whether a dataset version is accepted, with every check and finding behind it."""

    accepted: bool
    models: tuple[str, ...]
    checks: tuple[ModelCheck, ...] = ()
    reasons: tuple[Reason, ...] = ()
    warnings: tuple[Reason, ...] = ()
    drift: tuple[FeatureDriftResult, ...] = ()
    rows: int | None = None
    inferred: Expectations | None = None
    """Expectations learnt from every accepted version up to this one, for later versions."""
    about_bytes: bool = True


def text(value: str, limit: int = MAX_TEXT) -> str:
    """``value`` cut to ``limit`` characters."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def field_name(column: str | None) -> str | None:
    """A column name that fits ``Reason.field`` (None for frame-level findings)."""
    return text(str(column), MAX_FIELD) if column else None


def reason_for(check: ModelCheck) -> Reason:
    """The rejection reason of a failed check."""
    r = check.result
    message = f"expected {r.expected}, observed {r.observed} (model {check.model})"
    return Reason(code=r.code, message=text(message), field=field_name(r.column))


def capped(reasons: Iterable[Reason]) -> tuple[Reason, ...]:
    """At most ``MAX_REASONS`` reasons (the events' limit); the last says how many were cut."""
    items = list(reasons)
    if len(items) <= MAX_REASONS:
        return tuple(items)
    cut = len(items) - MAX_REASONS + 1
    more = Reason(code="truncated", message=f"{cut} more findings are in the report")
    return (*items[: MAX_REASONS - 1], more)


def specs_fingerprint(specs: Sequence[SpecRecord], inferred: Expectations | None) -> str:
    """What the verdict on a given set of bytes depends on besides the bytes."""
    parts = sorted(f"{s.model}:{s.spec_hash}" for s in specs)
    learnt = "none" if inferred is None else inferred.model_dump_json()
    parts.append(f"inferred:{hashlib.sha256(learnt.encode()).hexdigest()}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def spec_warnings(specs: Sequence[SpecRecord]) -> list[Reason]:
    """A warning per spec whose expectations block could not be used."""
    return [
        Reason(
            code="invalid_expectations",
            message=text(f"model {s.model}: expectations ignored, model not listed: {s.error}"),
        )
        for s in specs
        if s.error is not None
    ]


def reject_unloaded(load: LoadOutcome, specs: Sequence[SpecRecord]) -> Verdict:
    """The verdict on an object that could not be read into a frame."""
    assert load.failure is not None
    return Verdict(
        accepted=False,
        models=tuple(sorted({s.model for s in specs})),
        reasons=(load.failure,),
        warnings=tuple(spec_warnings(specs)),
        about_bytes=load.about_bytes,
    )


def run_checks(
    frame: pd.DataFrame, specs: Sequence[SpecRecord], reference: Expectations
) -> list[ModelCheck]:
    """Declared checks per spec; ``reference`` (inferred) on every column no spec declares."""
    declared = [(s.model, s.expectations) for s in specs if s.expectations is not None]
    checks = [
        ModelCheck(model, result)
        for model, expectations in declared
        for result in check_frame(frame, expectations)
    ]
    covered = {c.name for _, expectations in declared for c in expectations.columns}
    rest = reference.model_copy(
        update={
            "columns": [c for c in reference.columns if c.name not in covered],
            "target": None if declared else reference.target,
            "task": None if declared else reference.task,
        }
    )
    checks += [ModelCheck(INFERRED, result) for result in check_frame(frame, rest)]
    undeclared = [s for s in specs if s.expectations is None]
    checks += _target_presence(frame, undeclared, rest)
    return checks


def learnt(
    frame: pd.DataFrame, specs: Sequence[SpecRecord], inferred: Expectations | None
) -> Expectations:
    """The inferred expectations grown by an accepted ``frame``."""
    new = _infer(frame, specs)
    return new if inferred is None else merge_expectations(inferred, new)


def _infer(frame: pd.DataFrame, specs: Sequence[SpecRecord]) -> Expectations:
    """Expectations learnt from ``frame``; the first spec's target if the frame has it."""
    spec = next((s for s in sorted(specs, key=lambda s: s.model) if s.target in frame), None)
    if spec is None:
        return infer_expectations(frame)
    return infer_expectations(frame, target=spec.target, task=spec.task)


def _target_presence(
    frame: pd.DataFrame, specs: Sequence[SpecRecord], inferred: Expectations
) -> list[ModelCheck]:
    """``target_missing`` for specs without expectations whose target column is absent."""
    return [
        ModelCheck(
            s.model,
            CheckResult(
                code="target_missing",
                column=s.target,
                expected=f"target column {s.target!r} present",
                observed="column absent",
                passed=s.target in frame,
            ),
        )
        for s in specs
        if s.target != inferred.target
    ]


def drift_warnings(drift: Sequence[FeatureDriftResult]) -> list[Reason]:
    """A ``distribution_shift`` warning per drifted feature."""
    return [
        Reason(
            code="distribution_shift",
            message=text(
                f"{d.test} statistic {d.statistic:.4g}"
                + (f" (p={d.p_value:.3g})" if d.p_value is not None else "")
                + f" against threshold {d.threshold:.4g} vs the previous accepted version"
            ),
            field=field_name(d.feature),
        )
        for d in drift
        if d.drifted
    ]


def decide(
    frame: pd.DataFrame,
    specs: Sequence[SpecRecord],
    inferred: Expectations | None,
    previous: DatasetProfile | None,
) -> Verdict:
    """Accept ``frame`` unless a rejecting check fails (tolerated failures and drift warn)."""
    fresh = reference = inferred
    if inferred is None:  # the first version: held to the hard rules of what it teaches
        fresh = _infer(frame, specs)
        reference = without_value_rules(fresh)
    assert reference is not None
    checks = run_checks(frame, specs, reference)
    broken = [c for c in checks if not c.result.passed]
    failed = [reason_for(c) for c in broken if c.result.severity == "reject"]
    warned = [reason_for(c) for c in broken if c.result.severity == "warn"]
    warnings = [*spec_warnings(specs), *warned]
    if failed:
        return Verdict(
            accepted=False,
            models=tuple(sorted({s.model for s in specs})),
            checks=tuple(checks),
            reasons=capped(failed),
            warnings=capped(warnings),
            rows=len(frame),
        )
    drift = compare_to_profile(previous, frame) if previous is not None else []
    return Verdict(
        accepted=True,
        models=tuple(sorted(s.model for s in specs if s.error is None)),
        checks=tuple(checks),
        warnings=capped([*warnings, *drift_warnings(drift)]),
        drift=tuple(drift),
        rows=len(frame),
        inferred=fresh if inferred is None else learnt(frame, specs, inferred),
    )
