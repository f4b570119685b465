"""Model specs as validation keeps them: which dataset, which target, which expectations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from driftline.stats.spec import Expectations
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.modelspec import Task

MAX_ERROR = 500


@dataclass(frozen=True)
class SpecRecord:
    """The part of one model's spec that validation needs."""

    model: str
    dataset: str
    target: str
    task: Task
    spec_hash: str
    expectations: Expectations | None = None
    error: str | None = None
    """Why the spec's expectations block could not be used, if it could not."""


def spec_record(event: ModelSpecApplied) -> SpecRecord:
    """What validation keeps of an applied spec; a bad expectations block becomes ``error``."""
    expectations, error = parse_expectations(event.spec.get("expectations"), event)
    return SpecRecord(
        model=event.model,
        dataset=event.dataset,
        target=event.target,
        task=event.task,
        spec_hash=event.spec_hash,
        expectations=expectations,
        error=error,
    )


def parse_expectations(raw: Any, event: ModelSpecApplied) -> tuple[Expectations | None, str | None]:
    """``Expectations`` from a spec block (a mapping, or a list of columns), or an error text."""
    if raw is None:
        return None, None
    if isinstance(raw, list):
        raw = {"columns": raw}
    if isinstance(raw, dict):
        # The spec's own target and task apply unless the block names its own.
        raw = {"target": event.target, "task": event.task, **raw}
    try:
        return Expectations.model_validate(raw), None
    except ValidationError as exc:
        return None, _summary(exc)


def _summary(exc: ValidationError) -> str:
    """The first few validation errors as one line."""
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or 'expectations'}: {err['msg']}"
        for err in exc.errors()[:5]
    ]
    summary = "; ".join(parts)
    return summary if len(summary) <= MAX_ERROR else summary[: MAX_ERROR - 1] + "…"
