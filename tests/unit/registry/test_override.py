"""An approver may approve a version its gates rejected, with a reason that is kept."""

from __future__ import annotations

from typing import Any

import pytest

from driftline.registry.core import NotAnApproverError, NotOverridableError, SelfApprovalError
from driftline.registry.workflow import (
    UnknownVersionError,
    decide_manually,
    override_rejection,
    register_run,
)
from driftline_contracts.events.registry import ModelApproved, ModelRejected
from tests.unit.registry.fakes import FakeModelVersions, FakeSpecHistory
from tests.unit.registry.test_workflow import MODEL, applied, spec, trained


async def gate_rejected() -> tuple[FakeSpecHistory, FakeModelVersions]:
    """v1 with accuracy 0.7 against a minimum of 0.8, trained by user:bob."""
    history, versions = FakeSpecHistory(), FakeModelVersions()
    await applied(history, spec())
    _, rejected = await register_run(trained("run-1", 0.7), "user:bob", "e1",
                                     specs=history, versions=versions)  # fmt: skip
    assert isinstance(rejected, ModelRejected)
    return history, versions


async def test_an_approver_overrides_a_gate_rejection_and_the_reason_is_kept() -> None:
    history, versions = await gate_rejected()
    event = (await override_rejection(
        MODEL, 1, actor="user:carol", role="approver", reason="holdout is last year's data",
        versions=versions, specs=history,
    )).event  # fmt: skip
    assert isinstance(event, ModelApproved)
    assert event.approver == "user:carol"
    assert event.comment == (
        "override of failed gate.min_accuracy by user:carol: holdout is last year's data"
    )
    assert [(g.gate, g.passed) for g in event.gates] == [("min_accuracy", False)]
    stored = versions.rows[(MODEL, 1)]
    assert (stored.status, stored.decided_by) == ("approved", "user:carol")
    assert stored.comment == event.comment
    assert [r.code for r in stored.reasons] == ["gate.min_accuracy"]


@pytest.mark.parametrize(
    ("actor", "role", "reason", "error"),
    [
        ("user:carol", None, "because", NotAnApproverError),
        ("user:bob", "approver", "because", SelfApprovalError),
        ("user:alice", "approver", "because", SelfApprovalError),  # applied the spec
        ("user:carol", "approver", "   ", NotOverridableError),
    ],
)
async def test_an_override_needs_an_approver_another_person_and_a_reason(
    actor: str, role: str | None, reason: str, error: type[Exception]
) -> None:
    history, versions = await gate_rejected()
    with pytest.raises(error):
        await override_rejection(MODEL, 1, actor=actor, role=role, reason=reason,
                                 versions=versions, specs=history)  # fmt: skip
    assert versions.rows[(MODEL, 1)].status == "rejected"


async def test_only_a_gate_rejection_can_be_overridden() -> None:
    history, versions = FakeSpecHistory(), FakeModelVersions()
    await applied(history, spec(approval="manual"))
    await register_run(trained("run-1", 0.9), "user:bob", "e1", specs=history, versions=versions)
    common: dict[str, Any] = {"actor": "user:carol", "role": "approver", "reason": "x",
                              "versions": versions, "specs": history}  # fmt: skip
    with pytest.raises(NotOverridableError, match="pending"):
        await override_rejection(MODEL, 1, **common)
    await decide_manually(MODEL, 1, approve=False, actor="user:dave", role="approver",
                          comment="leaks the label", versions=versions)  # fmt: skip
    with pytest.raises(NotOverridableError, match="rejected by user:dave"):
        await override_rejection(MODEL, 1, **common)
    with pytest.raises(UnknownVersionError):
        await override_rejection(MODEL, 9, **common)
