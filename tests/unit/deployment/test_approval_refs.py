"""A person's promotion names the promoted version's approval as its cause (lineage reaches
the data): the approval's id always, its correlation id when a rollout kept its envelope."""

from __future__ import annotations

from typing import Any

from driftline.deployment.operations import caused_by_approval
from driftline.deployment.rollout.approval_refs import approval_of
from driftline.runtime.uow import EventRef, UnitOfWork
from driftline_contracts.envelope import new_envelope
from driftline_contracts.events.deployment import ModelPromoted
from driftline_contracts.events.registry import ModelApproved
from driftline_contracts.examples import example
from driftline_contracts.values import ModelRef

V2 = ModelRef(name="churn-clf", version=2)
APPROVAL = new_envelope(example(ModelApproved), source="driftline/registry", actor="user:carol")


class Answers:
    """A session whose ``scalar`` answers in turn: the version's event id, then a rollout's
    kept cause."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)

    async def scalar(self, _: Any) -> Any:
        return self.answers.pop(0) if self.answers else None


async def test_a_version_with_a_rollout_gives_the_approvals_id_and_correlation() -> None:
    found = await approval_of(Answers(APPROVAL.id, APPROVAL.model_dump_json()), V2)  # type: ignore[arg-type]
    assert found == EventRef(APPROVAL.id, APPROVAL.correlationid)


async def test_a_version_promoted_directly_gives_the_approvals_id_only() -> None:
    assert await approval_of(Answers("e-7", None), V2) == EventRef("e-7")  # type: ignore[arg-type]


async def test_a_kept_cause_of_another_approval_or_unreadable_lends_no_correlation() -> None:
    other = await approval_of(Answers("e-7", APPROVAL.model_dump_json()), V2)  # type: ignore[arg-type]
    unreadable = await approval_of(Answers("e-7", "{not json"), V2)  # type: ignore[arg-type]
    assert other == unreadable == EventRef("e-7")


async def test_a_version_never_recorded_has_no_approval() -> None:
    assert await approval_of(Answers(None), V2) is None  # type: ignore[arg-type]


async def test_the_promotion_is_emitted_caused_by_the_approval() -> None:
    uow: UnitOfWork[None] = UnitOfWork(
        Answers(APPROVAL.id, APPROVAL.model_dump_json()),  # type: ignore[arg-type]
        source="driftline/deployment", actor="user:dave", cause=None, deps=None,
    )  # fmt: skip
    await caused_by_approval(uow)(example(ModelPromoted).model_copy(update={"model": V2}))
    (envelope,) = uow.emitted
    assert (envelope.causationid, envelope.correlationid) == (APPROVAL.id, APPROVAL.correlationid)
