"""Registry use cases on in-memory ports: specs, registration, manual approval, promotion."""

from __future__ import annotations

from typing import Any

import pytest

from driftline.registry.core import NotAnApproverError, NotPendingError, SelfApprovalError
from driftline.registry.workflow import (
    UnknownModelError,
    apply_spec,
    decide_manually,
    record_applied_spec,
    record_promotion,
    register_run,
)
from driftline_contracts.events.registry import ModelApproved, ModelRegistered, ModelRejected
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.events.training import ChampionComparison, MetricComparison, ModelTrained
from driftline_contracts.examples import example
from driftline_contracts.modelspec import ModelSpec, spec_hash
from driftline_contracts.values import ModelRef
from tests.unit.registry.fakes import FakeModelVersions, FakeSpecHistory

MODEL = "churn-clf"


def spec(**changes: Any) -> ModelSpec:
    base: dict[str, Any] = {
        "model": MODEL, "dataset": "churn", "target": "churned", "task": "classification",
        "trainer": {"estimator": "sklearn.linear_model.LogisticRegression"},
        "gates": [{"metric": "accuracy", "min": 0.8, "beat_champion": 0.0}],
    }  # fmt: skip
    return ModelSpec.model_validate({**base, **changes})


def trained(
    run_id: str, accuracy: float, champion: tuple[int, float, float, float] | None = None
) -> ModelTrained:
    """A run; ``champion`` = (version, its accuracy, interval low, high) on the same rows."""
    comparison = None
    if champion is not None:
        version, theirs, low, high = champion
        found = MetricComparison(
            metric="accuracy",
            candidate=accuracy,
            champion=theirs,
            delta=accuracy - theirs,
            interval_low=low,
            interval_high=high,
        )
        comparison = ChampionComparison(
            status="compared", champion=ModelRef(name=MODEL, version=version),
            message="compared", rows=400, resamples=1000, metrics=[found],
        )  # fmt: skip
    return example(ModelTrained).model_copy(update={
        "model": MODEL, "run_id": run_id, "metrics": {"accuracy": accuracy},
        "champion_comparison": comparison,
    })  # fmt: skip


class Emitted:
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def __call__(self, event: Any) -> str:
        self.events.append(event)
        return f"evt-{len(self.events)}"


async def applied(history: FakeSpecHistory, the_spec: ModelSpec) -> None:
    await apply_spec(the_spec, "user:alice", history, Emitted())


async def test_a_new_spec_is_stored_and_announced_once() -> None:
    history, emitted = FakeSpecHistory(), Emitted()
    record, new = await apply_spec(spec(), "user:alice", history, emitted)
    assert new
    assert (record.version, record.applied_by, record.event_id) == (1, "user:alice", "evt-1")
    event = emitted.events[0]
    assert isinstance(event, ModelSpecApplied)
    assert event.trainer == "sklearn.linear_model.LogisticRegression"
    assert event.spec_hash == spec_hash(spec()) == record.spec_hash
    assert ModelSpec.model_validate(event.spec) == spec()

    again, new = await apply_spec(spec(), "user:bob", history, emitted)
    assert not new
    assert again == record
    # unchanged: no new version, announced again (how a failed training run is retried)
    assert [e.spec_hash for e in emitted.events] == [record.spec_hash] * 2
    assert [r.version for r in history.records] == [1]

    changed, new = await apply_spec(spec(approval="manual"), "user:bob", history, emitted)
    assert new
    assert changed.version == 2
    assert len(emitted.events) == 3


async def test_our_own_spec_event_coming_back_is_not_stored_twice() -> None:
    history, emitted = FakeSpecHistory(), Emitted()
    await apply_spec(spec(), "user:alice", history, emitted)
    assert not await record_applied_spec(emitted.events[0], "user:alice", "evt-1", history)
    direct = emitted.events[0].model_copy(
        update={"spec": spec(approval="manual").model_dump(mode="json")}
    )
    assert await record_applied_spec(direct, "pipeline:ci", "other", history)
    assert [r.version for r in history.records] == [1, 2]


async def test_first_run_gets_v1_and_passes_beat_champion_without_a_champion() -> None:
    history, versions = FakeSpecHistory(), FakeModelVersions()
    await applied(history, spec())
    out = await register_run(trained("run-1", 0.9), "service:training", "e1",
                             specs=history, versions=versions)  # fmt: skip
    registered, approved = out
    assert isinstance(registered, ModelRegistered)
    assert (registered.model.version, registered.run_id, registered.approval) == (
        1,
        "run-1",
        "automatic",
    )
    assert registered.trainer == "service:training"
    assert registered.champion is None
    assert isinstance(approved, ModelApproved)
    assert approved.approver == "service:registry"
    assert [(g.kind, g.passed) for g in approved.gates] == [("minimum", True)]
    assert "beat_champion_accuracy not judged" in (approved.comment or "")
    stored = versions.rows[(MODEL, 1)]
    assert (stored.status, stored.dataset, stored.trainer) == (
        "approved",
        registered.dataset,
        "service:training",
    )


async def test_a_duplicate_run_makes_no_second_version() -> None:
    history, versions = FakeSpecHistory(), FakeModelVersions()
    await applied(history, spec())
    first = await register_run(
        trained("run-1", 0.9), "service:training", "e1", specs=history, versions=versions
    )
    again = await register_run(
        trained("run-1", 0.9), "service:training", "e2", specs=history, versions=versions
    )
    assert len(first) == 2
    assert again == []
    assert list(versions.rows) == [(MODEL, 1)]


async def test_a_worse_candidate_than_the_champion_is_rejected_naming_the_gate() -> None:
    history, versions = FakeSpecHistory(), FakeModelVersions()
    await applied(history, spec())
    await register_run(
        trained("run-1", 0.9), "service:training", "e1", specs=history, versions=versions
    )
    await record_promotion(MODEL, 1, None, versions)
    out = await register_run(
        trained("run-2", 0.85, champion=(1, 0.9, -0.08, -0.02)), "service:training", "e2",
        specs=history, versions=versions,
    )  # fmt: skip
    registered, rejected = out
    assert registered.model.version == 2
    assert registered.champion is not None
    assert registered.champion.version == 1
    assert isinstance(rejected, ModelRejected)
    assert [r.code for r in rejected.reasons] == ["gate.beat_champion_accuracy"]
    assert "on the same 400 holdout rows" in rejected.reasons[0].message
    assert rejected.rejected_by == "service:registry"
    assert versions.rows[(MODEL, 2)].status == "rejected"


async def test_a_candidate_within_noise_of_the_champion_is_approved_saying_it_was_a_tie() -> None:
    history, versions = FakeSpecHistory(), FakeModelVersions()
    await applied(history, spec())
    await register_run(trained("run-1", 0.9), "service:training", "e1",
                       specs=history, versions=versions)  # fmt: skip
    await record_promotion(MODEL, 1, None, versions)
    _, approved = await register_run(
        trained("run-2", 0.88, champion=(1, 0.9, -0.05, 0.01)), "service:training", "e2",
        specs=history, versions=versions,
    )  # fmt: skip
    assert isinstance(approved, ModelApproved)
    beat = next(g for g in approved.gates if g.kind == "beat_champion")
    assert (beat.champion, beat.interval_low, beat.interval_high, beat.rows) == (
        0.9, -0.05, 0.01, 400)  # fmt: skip
    assert "a tie within noise" in (approved.comment or "")
    assert approved.champion == ModelRef(name=MODEL, version=1)


async def test_the_verdict_names_the_champion_the_run_was_compared_with() -> None:
    """The run compared itself with v1; v2 was promoted meanwhile: the verdict names v1."""
    history, versions = FakeSpecHistory(), FakeModelVersions()
    await applied(history, spec())
    for run in ("run-1", "run-2"):
        await register_run(trained(run, 0.9), "service:training", run,
                           specs=history, versions=versions)  # fmt: skip
    await record_promotion(MODEL, 2, 1, versions)
    registered, _ = await register_run(
        trained("run-3", 0.95, champion=(1, 0.9, 0.01, 0.09)), "service:training", "e3",
        specs=history, versions=versions,
    )  # fmt: skip
    assert registered.champion == ModelRef(name=MODEL, version=1)


async def test_a_run_for_a_model_without_spec_is_an_error() -> None:
    with pytest.raises(UnknownModelError):
        await register_run(trained("run-1", 0.9), "service:training", "e1",
                           specs=FakeSpecHistory(), versions=FakeModelVersions())  # fmt: skip


async def manual_candidate(trainer: str = "user:bob") -> FakeModelVersions:
    history, versions = FakeSpecHistory(), FakeModelVersions()
    await applied(history, spec(approval="manual"))
    out = await register_run(trained("run-1", 0.9), trainer, "e1", specs=history, versions=versions)
    assert [type(e) for e in out] == [ModelRegistered]  # waits for a person
    return versions


async def test_manual_approval_needs_the_role_and_a_different_person() -> None:
    versions = await manual_candidate()
    common: dict[str, Any] = {"approve": True, "comment": None, "versions": versions}
    with pytest.raises(NotAnApproverError):
        await decide_manually(MODEL, 1, actor="user:carol", role=None, **common)
    with pytest.raises(SelfApprovalError):
        await decide_manually(MODEL, 1, actor="user:bob", role="approver", **common)
    event = (await decide_manually(MODEL, 1, actor="user:carol", role="approver", **common)).event
    assert isinstance(event, ModelApproved)
    assert event.approver == "user:carol"
    assert versions.rows[(MODEL, 1)].status == "approved"
    with pytest.raises(NotPendingError):
        await decide_manually(MODEL, 1, actor="user:dave", role="approver", **common)


async def test_the_trainer_named_in_the_event_may_not_approve_either() -> None:
    versions = await manual_candidate(trainer="service:training")
    versions.rows[(MODEL, 1)] = versions.rows[(MODEL, 1)].model_copy(
        update={"trained_by": "user:bob"}
    )
    with pytest.raises(SelfApprovalError):
        await decide_manually(MODEL, 1, approve=True, actor="user:bob", role="approver",
                              comment=None, versions=versions)  # fmt: skip


async def test_manual_rejection_gives_the_reason() -> None:
    versions = await manual_candidate()
    decided = await decide_manually(MODEL, 1, approve=False, actor="user:carol",
                                    role="approver", comment="leaks the label",
                                    versions=versions)  # fmt: skip
    event = decided.event
    assert isinstance(event, ModelRejected)
    assert (event.rejected_by, event.reasons[0].code, event.reasons[0].message) == (
        "user:carol", "manual", "leaks the label")  # fmt: skip


async def test_promotion_moves_champion_and_keeps_the_previous() -> None:
    versions = FakeModelVersions()
    assert await record_promotion(MODEL, 1, None, versions) == {"champion": 1}
    assert await record_promotion(MODEL, 2, None, versions) == {"champion": 2, "previous": 1}
    assert await record_promotion(MODEL, 3, 2, versions) == {"champion": 3, "previous": 2}


async def test_after_a_rollback_the_events_follow_deployment_not_the_lagging_alias() -> None:
    """Deployment promoted v2, then rolled back to v1 (a ModelPromoted of v1); the registry has
    not consumed the rollback yet, so its alias still says v2. Training followed deployment
    and compared the new runs with v1: every event names v1, none the alias's v2."""
    history, versions = FakeSpecHistory(), FakeModelVersions()
    await applied(history, spec())
    for run in ("run-1", "run-2"):
        await register_run(trained(run, 0.9), "service:training", run,
                           specs=history, versions=versions)  # fmt: skip
    await record_promotion(MODEL, 1, None, versions)
    await record_promotion(MODEL, 2, 1, versions)  # the rollback to v1 is still in flight
    v1 = ModelRef(name=MODEL, version=1)

    registered, approved = await register_run(
        trained("run-3", 0.95, champion=(1, 0.9, 0.01, 0.09)), "service:training", "e3",
        specs=history, versions=versions,
    )  # fmt: skip
    assert isinstance(approved, ModelApproved)
    assert (registered.champion, approved.champion) == (v1, v1)
    uncompared, _ = await register_run(trained("run-4", 0.9), "service:training", "e4",
                                       specs=history, versions=versions)  # fmt: skip
    assert uncompared.champion is None  # no comparison: the alias is not named instead

    await applied(history, spec(approval="manual"))
    await register_run(
        trained("run-5", 0.95, champion=(1, 0.9, 0.01, 0.09)), "user:bob", "e5",
        specs=history, versions=versions,
    )  # fmt: skip
    manual = (await decide_manually(MODEL, 5, approve=True, actor="user:carol", role="approver",
                                    comment=None, versions=versions)).event  # fmt: skip
    assert isinstance(manual, ModelApproved)
    assert manual.champion == v1

    # The rollback arrives: the alias follows deployment's event back to the older version.
    assert await record_promotion(MODEL, 1, 2, versions) == {"champion": 1, "previous": 2}
