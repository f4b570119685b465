"""Lineage: a promotion traces back to the data that trained it, oldest first, with key facts."""

from __future__ import annotations

import dataclasses

import pytest

from driftline.audit.lineage import UnknownEventError, find_promotion, lineage_of
from driftline.audit.queries import (
    VersionNotFoundError,
    load_lineage,
    load_version_lineage,
)
from driftline_contracts.events import (
    CanaryRolledBack,
    CanaryStarted,
    CanaryStepAdvanced,
    DataArrived,
    DataValidated,
    ModelApproved,
    ModelPromoted,
    ModelRegistered,
    ModelSpecApplied,
    ModelTrained,
    TrainingStarted,
)
from driftline_contracts.examples import SHA_A, example
from tests.unit.audit.builders import FakeReader, Log, ref

CHAIN = [
    DataArrived,
    DataValidated,
    TrainingStarted,
    ModelTrained,
    ModelRegistered,
    ModelApproved,
    CanaryStarted,
    CanaryStepAdvanced,
]


def _journey(log: Log, version: int = 3, run: str = "run-1") -> list:
    """From data arrival to the promotion of churn-clf@version, each caused by the previous."""
    entries, cause = [], None
    for hours, cls in enumerate(CHAIN):
        cause = log.add(cls, hours, run=run, cause=cause, actor=f"service:{cls.producer[:8]}")
        entries.append(cause)
    promoted = log.add(
        ModelPromoted, 9, run=run, cause=cause, actor="user:alice", model=ref("churn-clf", version)
    )
    return [*entries, promoted]


def test_promotion_traces_back_to_the_data_oldest_first() -> None:
    log = Log()
    journey = _journey(log)
    lineage = lineage_of(log.by_id(), journey[-1].event_id)
    assert lineage.complete
    assert [s.type for s in lineage.steps] == [cls.ce_type for cls in [*CHAIN, ModelPromoted]]
    assert [s.time for s in lineage.steps] == sorted(s.time for s in lineage.steps)
    data, promotion = lineage.steps[0], lineage.steps[-1]
    assert data.facts["dataset_sha256"] == SHA_A
    assert data.facts["dataset_uri"] == "s3://lake/churn/2025-01-06.parquet"
    assert promotion.actor == "user:alice"
    assert promotion.facts["model"] == "churn-clf@3"
    assert promotion.facts["via"] == "canary"


def test_steps_carry_run_metrics_and_verdicts() -> None:
    log = Log()
    promotion = _journey(log)[-1]
    facts = {s.type: s.facts for s in lineage_of(log.by_id(), promotion.event_id).steps}
    assert facts[ModelTrained.ce_type]["run_id"] == "run-20250106-0900"
    assert facts[ModelTrained.ce_type]["metrics"]["accuracy"] == pytest.approx(0.912)
    assert facts[ModelApproved.ce_type]["gates_passed"] == "2/2"
    assert facts[CanaryStepAdvanced.ce_type]["verdict"] == "pass"
    assert facts[DataValidated.ce_type]["dataset_version"] == 7


def test_missing_parent_stops_the_walk_and_is_named() -> None:
    log = Log()
    journey = _journey(log)
    del_id = journey[3].event_id
    entries = {k: v for k, v in log.by_id().items() if k != del_id}
    lineage = lineage_of(entries, journey[-1].event_id)
    assert lineage.missing_parent == del_id
    assert not lineage.complete
    assert lineage.steps[0].type == ModelRegistered.ce_type
    assert len(lineage.steps) == 5


def test_causation_cycle_stops_the_walk() -> None:
    log = Log()
    first = log.add(DataArrived, 0)
    second = log.add(DataValidated, 1, cause=first)
    looped = {
        first.event_id: dataclasses.replace(first, causation_id=second.event_id),
        second.event_id: second,
    }
    lineage = lineage_of(looped, second.event_id)
    assert lineage.cycle_at == second.event_id
    assert [s.event_id for s in lineage.steps] == [first.event_id, second.event_id]


def test_unknown_start_and_unknown_payloads() -> None:
    log = Log()
    odd = dataclasses.replace(log.add(DataArrived, 0), type="com.example.other", payload=b"[1")
    with pytest.raises(UnknownEventError, match="nope"):
        lineage_of({odd.event_id: odd}, "nope")
    assert lineage_of({odd.event_id: odd}, odd.event_id).steps[0].facts == {}


def test_find_promotion_picks_model_and_version() -> None:
    log = Log()
    v2 = _journey(log, version=2, run="run-a")[-1]
    v3 = _journey(log, version=3, run="run-b")[-1]
    log.add(ModelPromoted, 20, model=ref("fraud", 3))
    assert find_promotion(log.entries, "churn-clf", 2) == v2
    assert find_promotion(log.entries, "churn-clf", 3) == v3
    assert find_promotion(log.entries, "churn-clf", 4) is None
    assert find_promotion(log.entries, "fraud", 2) is None


async def test_loading_follows_parents_one_fetch_per_hop() -> None:
    log = Log()
    _journey(log, version=2, run="run-a")
    _journey(log, version=3, run="run-b")
    reader = FakeReader(log.entries)
    lineage = await load_version_lineage(reader, "churn-clf", 3)
    assert [s.correlation_id for s in lineage.steps] == ["run-b"] * 9
    assert reader.gets == 9
    assert lineage.data == [], "the chain starts at the data already"
    with pytest.raises(VersionNotFoundError, match="churn-clf@4"):
        await load_version_lineage(reader, "churn-clf", 4)
    with pytest.raises(UnknownEventError):
        await load_lineage(reader, "missing-event")


async def test_a_version_never_promoted_has_a_lineage_at_its_furthest_stage() -> None:
    log = Log()
    journey = _journey(log, version=2, run="run-a")
    trained = journey[CHAIN.index(ModelTrained)]
    registered = log.add(ModelRegistered, 10, run="run-c", cause=trained, model=ref("churn-clf", 5))
    lineage = await load_version_lineage(FakeReader(log.entries), "churn-clf", 5)
    assert lineage.steps[-1].event_id == registered.event_id
    started = log.add(CanaryStarted, 11, run="run-c", cause=registered, model=ref("churn-clf", 5))
    back = log.add(CanaryRolledBack, 12, run="run-c", cause=started, model=ref("churn-clf", 5))
    lineage = await load_version_lineage(FakeReader(log.entries), "churn-clf", 5)
    assert [s.event_id for s in lineage.steps[-3:]] == [
        registered.event_id,
        started.event_id,
        back.event_id,
    ]
    assert lineage.steps[0].type == DataArrived.ce_type


async def test_a_spec_triggered_version_names_the_data_it_trained_on() -> None:
    log = Log()
    arrived = log.add(DataArrived, 0, run="data")
    validated = log.add(DataValidated, 1, run="data", cause=arrived)
    spec = log.add(ModelSpecApplied, 5, run="spec")
    trained = log.add(ModelTrained, 6, run="spec", cause=spec)
    registered = log.add(ModelRegistered, 7, run="spec", cause=trained)
    model = ModelRegistered.model_validate_json(registered.payload).model
    lineage = await load_version_lineage(FakeReader(log.entries), model.name, model.version)
    assert [s.type for s in lineage.steps] == [
        ModelSpecApplied.ce_type,
        ModelTrained.ce_type,
        ModelRegistered.ce_type,
    ]
    assert [s.event_id for s in lineage.data] == [arrived.event_id, validated.event_id]
    trained_on = lineage.steps[1].facts
    assert lineage.data[-1].facts["dataset_version"] == trained_on["dataset_version"]


async def test_a_run_over_a_training_window_names_every_version_and_its_labelled_rows() -> None:
    log = Log()
    chains = []
    for version in (1, 2):
        arrived = log.add(DataArrived, version, run=f"data-{version}")
        accepted = example(DataValidated)
        dataset = accepted.dataset.model_copy(update={"version": version})
        chains.append([arrived, log.add(DataValidated, version + 0.5, run=f"data-{version}",
                                        cause=arrived, dataset=dataset)])  # fmt: skip
    spec = log.add(ModelSpecApplied, 5, run="spec")
    trained = example(ModelTrained)
    window = [trained.dataset.model_copy(update={"version": v}) for v in (1, 2)]
    run = log.add(ModelTrained, 6, run="spec", cause=spec, datasets=window, labelled_rows=40)
    registered = log.add(ModelRegistered, 7, run="spec", cause=run)
    model = ModelRegistered.model_validate_json(registered.payload).model
    lineage = await load_version_lineage(FakeReader(log.entries), model.name, model.version)
    name = trained.dataset.name
    assert lineage.steps[1].facts["datasets"] == [f"{name}@1", f"{name}@2"]
    assert lineage.steps[1].facts["labelled_rows"] == 40
    assert [s.event_id for s in lineage.data] == [e.event_id for chain in chains for e in chain]
