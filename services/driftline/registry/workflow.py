"""Registry use cases over its ports: apply a spec, register a run, decide, promote."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from driftline.registry import events
from driftline.registry.core import (
    NotOverridableError,
    NotPendingError,
    check_manual_decision,
    check_override,
    evaluate_gates,
    initial_status,
    next_version,
    promotion_aliases,
)
from driftline.registry.models import ModelVersion, SpecRecord
from driftline.registry.ports import ModelVersions, SpecHistory
from driftline.runtime.uow import EventRef
from driftline_contracts.events.registry import ModelApproved, ModelRejected
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.events.training import ChampionComparison, ModelTrained
from driftline_contracts.modelspec import ModelSpec, spec_hash
from driftline_contracts.values import Reason

Emit = Callable[[Any], Awaitable[str]]


class UnknownModelError(Exception):
    """No spec was applied for the model (retried, then dead-lettered)."""


class UnknownVersionError(Exception):
    """The model has no such version."""


@dataclass(frozen=True)
class Decision:
    """A person's decision on a version: the event to emit and the stored event it follows."""

    event: ModelApproved | ModelRejected
    caused_by: EventRef
    """The version's ModelTrained event, as an automatic decision is caused by it (its
    correlation id is None for versions registered before the registry kept it)."""


def decision(event: ModelApproved | ModelRejected, version: ModelVersion) -> Decision:
    """``event`` caused by the version's ModelTrained event, continuing its lifecycle run."""
    return Decision(event, EventRef(version.event_id, version.correlation_id))


async def apply_spec(
    spec: ModelSpec, actor: str, specs: SpecHistory, emit: Emit
) -> tuple[SpecRecord, bool]:
    """Store a new or changed spec and announce it. An unchanged spec is returned as it was
    and announced again: re-applying is how a person retries a failed training run (training
    retries only a failed run; every consumer keeps specs idempotently)."""
    digest = spec_hash(spec)
    latest = await specs.latest(spec.model)
    if latest is not None and latest.spec_hash == digest:
        await emit(events.spec_applied(spec, digest))
        return latest, False
    event_id = await emit(events.spec_applied(spec, digest))
    record = SpecRecord(
        model=spec.model, version=next_version(latest.version if latest else 0), spec_hash=digest,
        spec=spec.model_dump(mode="json"), applied_by=actor, event_id=event_id,
    )  # fmt: skip
    await specs.add(record)
    return record, True


async def current_champion(versions: ModelVersions, model: str) -> int | None:
    """The champion alias's version: the registry's copy of deployment's last ModelPromoted
    (it may lag); only ``record_promotion`` reads it, nothing decides on it."""
    return next((a.version for a in await versions.aliases(model) if a.alias == "champion"), None)


def _candidate(
    event: ModelTrained, actor: str, number: int, event_id: str, correlation_id: str | None
) -> dict[str, Any]:
    return dict(
        model=event.model, version=number, run_id=event.run_id, dataset=event.dataset,
        artifact=event.artifact, spec_hash=event.spec_hash, code_version=event.code_version,
        seed=event.seed, metrics=event.metrics, params=event.params, trainer=actor,
        trained_by=event.trainer, event_id=event_id, correlation_id=correlation_id,
    )  # fmt: skip


def compared_with(comparison: ChampionComparison | None) -> int | None:
    """The champion version the run was compared with on its holdout: the one deployment last
    announced to training (not the registry's alias, which may lag); None without one."""
    if comparison is not None and comparison.champion is not None:
        return comparison.champion.version
    return None


async def register_run(
    event: ModelTrained, actor: str, event_id: str, *, specs: SpecHistory,
    versions: ModelVersions, correlation_id: str | None = None,
) -> list[Any]:  # fmt: skip
    """Give a trained run the next version, apply the latest spec's gates; a known run: no-op.
    ``event_id`` and ``correlation_id`` are the ModelTrained envelope's, kept with the version."""
    known = await versions.run_context(event.model, event.run_id)
    if known.known_version is not None:
        return []
    spec_record = await specs.latest(event.model)
    if spec_record is None:
        raise UnknownModelError(f"no spec applied for model {event.model!r}")
    spec = ModelSpec.model_validate(spec_record.spec)
    comparison = event.champion_comparison
    verdict = evaluate_gates(spec.gates, event.metrics, comparison)
    number = next_version(known.latest_version)
    status = initial_status(verdict, spec.approval)
    version = ModelVersion(
        **_candidate(event, actor, number, event_id, correlation_id), approval=spec.approval,
        status=status,
        gates=verdict.results, reasons=verdict.reasons, notes=verdict.notes,
        compared_to=compared_with(comparison),
        decided_by=None if status == "pending" else events.REGISTRY_ACTOR,
    )  # fmt: skip
    await versions.add(version)
    outcome = events.verdict(version)
    return [events.registered(version, version.compared_to), *([outcome] if outcome else [])]


async def decide_manually(
    model: str, number: int, *, approve: bool, actor: str, role: str | None,
    comment: str | None, versions: ModelVersions, specs: SpecHistory | None = None,
) -> Decision:  # fmt: skip
    """A person approves or rejects a pending version: the event to emit and its cause."""
    version = await versions.get(model, number)
    if version is None:
        raise UnknownVersionError(f"model {model!r} has no version {number}")
    spec = await specs.latest(model) if specs is not None else None
    check_manual_decision(version, actor, role, spec.applied_by if spec else None)
    reasons = [] if approve else [Reason(code="manual", message=comment or f"rejected by {actor}")]
    status: Literal["approved", "rejected"] = "approved" if approve else "rejected"
    if not await versions.decide(model, number, status, by=actor, reasons=reasons, comment=comment):
        raise NotPendingError(f"{model} v{number} was decided meanwhile")
    if approve:  # the events name the champion the gates compared with, never the alias
        return decision(events.approved(version, actor, version.compared_to, comment), version)
    return decision(events.rejected(version, actor, reasons, version.compared_to), version)


async def override_rejection(
    model: str, number: int, *, actor: str, role: str | None, reason: str,
    versions: ModelVersions, specs: SpecHistory,
) -> Decision:  # fmt: skip
    """An approver approves a version its gates rejected, with a reason kept in the record
    and in ``ModelApproved.comment`` (the audit trail keeps the event and who sent it)."""
    version = await versions.get(model, number)
    if version is None:
        raise UnknownVersionError(f"model {model!r} has no version {number}")
    spec = await specs.latest(model)
    check_override(version, actor, role, reason, spec.applied_by if spec else None)
    failed = ", ".join(r.code for r in version.reasons) or "gates"
    comment = f"override of failed {failed} by {actor}: {reason.strip()}"[:2000]
    if not await versions.decide(model, number, "approved", by=actor, reasons=version.reasons,
                                 comment=comment, from_status="rejected"):  # fmt: skip
        raise NotOverridableError(f"{model} v{number} was decided meanwhile")
    return decision(events.approved(version, actor, version.compared_to, comment), version)


async def record_promotion(
    model: str, new: int, previous: int | None, versions: ModelVersions
) -> dict[str, int]:
    """Point champion at the promoted version and previous at the one it replaced (the
    event's ``previous``; only without it is the current champion read)."""
    champion = await current_champion(versions, model) if previous is None else None
    aliases = promotion_aliases(new, previous, champion)
    await versions.set_aliases(model, aliases)
    return aliases


async def record_applied_spec(
    event: ModelSpecApplied, actor: str, event_id: str, specs: SpecHistory
) -> bool:
    """Keep a spec that was published directly (not through the API); True if it was new."""
    if await specs.has_event(event_id):  # our own announcement coming back
        return False
    spec = ModelSpec.model_validate(event.spec)
    digest = spec_hash(spec)
    latest = await specs.latest(spec.model)
    if latest is not None and latest.spec_hash == digest:
        return False
    await specs.add(SpecRecord(
        model=spec.model, version=next_version(latest.version if latest else 0), spec_hash=digest,
        spec=spec.model_dump(mode="json"), applied_by=actor, event_id=event_id,
    ))  # fmt: skip
    return True
