"""The registry's outgoing events, built from its records (pure)."""

from __future__ import annotations

from driftline.registry.models import ModelVersion
from driftline_contracts.events.registry import ModelApproved, ModelRegistered, ModelRejected
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.modelspec import ModelSpec
from driftline_contracts.values import ModelRef, Reason

REGISTRY_ACTOR = "service:registry"


def ref(version: ModelVersion) -> ModelRef:
    """The contracts' reference to ``version``."""
    return ModelRef(name=version.model, version=version.version)


def champion_ref(model: str, champion: int | None) -> ModelRef | None:
    """Reference to the champion version, if there is one."""
    return None if champion is None else ModelRef(name=model, version=champion)


def spec_applied(spec: ModelSpec, digest: str) -> ModelSpecApplied:
    """``ModelSpecApplied`` for a new or changed spec."""
    trainer = spec.trainer.estimator or spec.trainer.function
    assert trainer is not None  # the spec guarantees exactly one
    return ModelSpecApplied(
        model=spec.model, dataset=spec.dataset, task=spec.task, target=spec.target,
        trainer=trainer, spec_hash=digest, spec=spec.model_dump(mode="json"),
    )  # fmt: skip


def registered(version: ModelVersion, champion: int | None) -> ModelRegistered:
    """``ModelRegistered`` with the version's lineage."""
    return ModelRegistered(
        model=ref(version), run_id=version.run_id, artifact=version.artifact,
        dataset=version.dataset, spec_hash=version.spec_hash,
        code_version=version.code_version, metrics=version.metrics, trainer=version.trainer,
        champion=champion_ref(version.model, champion), approval=version.approval,
    )  # fmt: skip


def approved(
    version: ModelVersion, approver: str, champion: int | None, comment: str | None = None
) -> ModelApproved:
    """``ModelApproved`` carrying every gate result."""
    return ModelApproved(
        model=ref(version), approver=approver, gates=version.gates,
        champion=champion_ref(version.model, champion), artifact=version.artifact,
        comment=comment,
    )  # fmt: skip


def rejected(
    version: ModelVersion, by: str, reasons: list[Reason], champion: int | None
) -> ModelRejected:
    """``ModelRejected`` carrying every gate result and why."""
    return ModelRejected(
        model=ref(version), rejected_by=by, gates=version.gates, reasons=reasons,
        champion=champion_ref(version.model, champion),
    )  # fmt: skip


def verdict(version: ModelVersion) -> ModelApproved | ModelRejected | None:
    """The gates' own verdict at registration; None while a person has to approve."""
    if version.status == "rejected":
        return rejected(version, REGISTRY_ACTOR, version.reasons, version.compared_to)
    if version.status == "approved":
        comment = "; ".join(version.notes)[:2000] or None
        return approved(version, REGISTRY_ACTOR, version.compared_to, comment)
    return None
