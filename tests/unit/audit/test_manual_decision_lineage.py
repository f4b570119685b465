"""The lineage of a version a person approved reaches the data, as an automatic approval's does:
the registry emits the decision caused by the version's ModelTrained event (not as a new
chain starting at the approval)."""

from __future__ import annotations

from driftline.audit.queries import load_version_lineage
from driftline.registry.workflow import decide_manually, register_run
from driftline.runtime.uow import UnitOfWork
from driftline_contracts.envelope import Envelope
from driftline_contracts.events import (
    DataArrived,
    DataValidated,
    Event,
    ModelApproved,
    ModelPromoted,
    ModelRegistered,
    ModelTrained,
    TrainingStarted,
)
from driftline_contracts.examples import SHA_A
from tests.unit.audit.builders import FakeReader, Log, ref
from tests.unit.registry.fakes import FakeModelVersions, FakeSpecHistory
from tests.unit.registry.test_workflow import MODEL, applied, spec, trained

RUN = "run-manual"


async def approved_by_a_person(trained_id: str) -> Envelope:
    """The envelope the registry's HTTP approve route emits for v1 (trained as ``trained_id``)."""
    history, versions = FakeSpecHistory(), FakeModelVersions()
    await applied(history, spec(approval="manual"))
    await register_run(trained("run-1", 0.9), "service:training", trained_id, specs=history,
                       versions=versions, correlation_id=RUN)  # fmt: skip
    decision = await decide_manually(MODEL, 1, approve=True, actor="user:carol", role="approver",
                                     comment=None, versions=versions, specs=history)  # fmt: skip
    uow: UnitOfWork[None] = UnitOfWork(
        None,  # type: ignore[arg-type]  # emit queues rows; nothing touches the session
        source="driftline/registry", actor="service:registry", cause=None, deps=None,
    )  # fmt: skip
    return await uow.emit(decision.event, actor="user:carol", caused_by=decision.caused_by)


async def test_a_manually_approved_promoted_version_traces_back_to_the_datasets_sha256() -> None:
    log = Log()
    cause = None
    chain: list[type[Event]] = [DataArrived, DataValidated, TrainingStarted, ModelTrained]
    for hours, cls in enumerate(chain):
        cause = log.add(cls, hours, run=RUN, cause=cause)
    assert cause is not None
    log.add(ModelRegistered, 4, run=RUN, cause=cause, model=ref(MODEL, 1))
    envelope = await approved_by_a_person(cause.event_id)
    approval = log.add(
        ModelApproved, 5, run=envelope.correlationid, actor=envelope.actor,
        cause=log.by_id().get(envelope.causationid or ""), event_id=envelope.id,
        model=ref(MODEL, 1),
    )  # fmt: skip
    log.add(ModelPromoted, 6, run=RUN, cause=approval, model=ref(MODEL, 1))

    lineage = await load_version_lineage(FakeReader(log.entries), MODEL, 1)

    assert lineage.complete
    assert [s.type for s in lineage.steps] == [
        c.ce_type for c in
        (DataArrived, DataValidated, TrainingStarted, ModelTrained, ModelApproved, ModelPromoted)
    ]  # fmt: skip
    assert lineage.steps[0].facts["dataset_sha256"] == SHA_A
    assert {s.correlation_id for s in lineage.steps} == {RUN}
    assert lineage.steps[-2].actor == "user:carol"
