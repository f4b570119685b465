"""A person's decision continues the version's lifecycle run, as an automatic one does: it is
caused by the version's ModelTrained event and shares its correlation id, so the lineage of
the approval (and of the promotion it leads to) reaches the run, the validation and the data."""

from __future__ import annotations

import pytest

from driftline.registry.workflow import (
    Decision,
    decide_manually,
    override_rejection,
    register_run,
)
from driftline.runtime.uow import UnitOfWork
from driftline_contracts.envelope import Envelope
from tests.unit.registry.fakes import FakeModelVersions, FakeSpecHistory
from tests.unit.registry.test_workflow import MODEL, applied, spec, trained

TRAINED_ID = "0b7c6a52-6a58-4c43-9a43-4e1f0c2b1d11"
RUN_CORRELATION = "drift-episode-7"


async def as_the_route_emits(decision: Decision, actor: str) -> Envelope:
    """Emit the decision the way ``POST .../approve|reject|override`` does: an HTTP unit of
    work, which consumed no event."""
    uow: UnitOfWork[None] = UnitOfWork(
        None,  # type: ignore[arg-type]  # emit queues rows; nothing touches the session
        source="driftline/registry", actor="service:registry", cause=None, deps=None,
    )  # fmt: skip
    return await uow.emit(decision.event, actor=actor, caused_by=decision.caused_by)


async def registered(
    accuracy: float, *, approval: str = "automatic", correlation_id: str | None = RUN_CORRELATION
) -> tuple[FakeSpecHistory, FakeModelVersions]:
    """v1 of MODEL from a ModelTrained with TRAINED_ID, trained by user:bob."""
    history, versions = FakeSpecHistory(), FakeModelVersions()
    await applied(history, spec(approval=approval))
    await register_run(trained("run-1", accuracy), "user:bob", TRAINED_ID, specs=history,
                       versions=versions, correlation_id=correlation_id)  # fmt: skip
    return history, versions


@pytest.mark.parametrize("approve", [True, False])
async def test_a_manual_decision_is_caused_by_the_versions_model_trained(approve: bool) -> None:
    history, versions = await registered(0.9, approval="manual")
    assert versions.rows[(MODEL, 1)].correlation_id == RUN_CORRELATION
    decision = await decide_manually(MODEL, 1, approve=approve, actor="user:carol",
                                     role="approver", comment="ok", versions=versions,
                                     specs=history)  # fmt: skip
    envelope = await as_the_route_emits(decision, "user:carol")
    assert envelope.type == ("io.driftline.registry.approved.v1" if approve
                             else "io.driftline.registry.rejected.v1")  # fmt: skip
    assert (envelope.causationid, envelope.correlationid) == (TRAINED_ID, RUN_CORRELATION)
    assert envelope.actor == "user:carol"


async def test_an_override_is_caused_by_the_versions_model_trained() -> None:
    history, versions = await registered(0.7)  # fails min_accuracy 0.8
    decision = await override_rejection(MODEL, 1, actor="user:carol", role="approver",
                                        reason="holdout is stale", versions=versions,
                                        specs=history)  # fmt: skip
    envelope = await as_the_route_emits(decision, "user:carol")
    assert envelope.type == "io.driftline.registry.approved.v1"
    assert (envelope.causationid, envelope.correlationid) == (TRAINED_ID, RUN_CORRELATION)


async def test_a_version_registered_before_correlation_ids_were_kept_starts_a_new_one() -> None:
    """Old rows have the ModelTrained id but no correlation id: the decision is still caused
    by the run (lineage reaches the data) and opens a correlation id of its own."""
    history, versions = await registered(0.9, approval="manual", correlation_id=None)
    decision = await decide_manually(MODEL, 1, approve=True, actor="user:carol",
                                     role="approver", comment=None, versions=versions,
                                     specs=history)  # fmt: skip
    envelope = await as_the_route_emits(decision, "user:carol")
    assert envelope.causationid == TRAINED_ID
    assert envelope.correlationid == envelope.id
