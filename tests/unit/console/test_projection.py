"""The read model's projections: one audited event → the rows a user later sees."""

from __future__ import annotations

import pytest

from driftline.console.projection import AuditedEvent, UnprojectableEventError, project
from driftline_contracts.events import (
    AuditDigestSigned,
    CanaryRolledBack,
    CanaryStarted,
    CanaryStepAdvanced,
    DataRejected,
    DataValidated,
    DriftDetected,
    DriftResolved,
    ModelApproved,
    ModelPromoted,
    ModelRegistered,
    ModelRejected,
    ModelTrained,
    TrainingFailed,
    TrainingStarted,
)
from driftline_contracts.examples import example
from tests.unit.console.fakes import InMemoryReadModel, audited


def _tables(event_cls: type) -> dict[str, dict]:
    changes = project(audited(example(event_cls)))
    return {c.table: {**c.key, **c.values} for c in changes}


def test_every_event_is_in_the_feed_even_one_the_console_does_not_project() -> None:
    changes = project(audited(example(AuditDigestSigned)))
    assert [c.table for c in changes] == ["events"]


def test_registration_then_approval_fills_one_version_row() -> None:
    model = InMemoryReadModel()
    model.feed(audited(example(ModelRegistered), id="r"), audited(example(ModelApproved), id="a"))
    (row,) = model.tables["versions"].values()
    approved = example(ModelApproved)
    assert row["status"] == "approved"
    assert row["decided_by"] == approved.approver
    assert row["metrics"] == example(ModelRegistered).metrics  # kept from the registration
    assert row["gates"][0]["gate"] == approved.gates[0].gate


def test_rejection_keeps_gate_intervals_and_reasons() -> None:
    row = _tables(ModelRejected)["versions"]
    rejected = example(ModelRejected)
    assert row["status"] == "rejected"
    assert [r["code"] for r in row["reasons"]] == [r.code for r in rejected.reasons]
    assert [g.get("interval_low") for g in row["gates"]] == [g.interval_low for g in rejected.gates]


def test_a_canary_goes_from_running_to_rolled_back_with_its_reasons() -> None:
    model = InMemoryReadModel()
    model.feed(
        audited(example(CanaryStarted), id="s"),
        audited(example(CanaryStepAdvanced), id="a"),
        audited(example(CanaryRolledBack), id="b"),
    )
    name = example(CanaryStarted).model.name
    canary = model.tables["models"][(name,)]["canary"]
    assert canary["status"] == "rolled_back"
    steps = sorted(model.tables["rollout_steps"].values(), key=lambda s: s["event_id"])
    assert [s["kind"] for s in steps] == ["advanced", "rolled_back", "started"]
    rolled = example(CanaryRolledBack)
    version = model.tables["versions"][(name, rolled.model.version)]
    assert version["status"] == "rolled_back"
    assert version["reasons"][0]["code"] == rolled.reasons[0].code


def test_an_advanced_step_shows_share_and_verdict_on_the_overview_row() -> None:
    row = _tables(CanaryStepAdvanced)["models"]
    advanced = example(CanaryStepAdvanced)
    assert row["canary"]["traffic_percent"] == advanced.traffic_percent
    assert row["canary"]["verdict"] == advanced.verdict
    assert row["canary"]["status"] == "running"


def test_promotion_sets_the_champion_and_retires_the_previous_version() -> None:
    promoted = example(ModelPromoted)
    changes = project(audited(promoted))
    champion = next(c for c in changes if c.table == "models")
    assert champion.values["champion"] == promoted.model.version
    if promoted.previous is not None:
        retired = [
            c for c in changes if c.table == "versions" and c.values == {"status": "retired"}
        ]
        assert retired[0].key["version"] == promoted.previous.version


def test_drift_opens_then_resolves_an_episode_with_one_window_row_per_feature() -> None:
    model = InMemoryReadModel()
    detected, resolved = example(DriftDetected), example(DriftResolved)
    model.feed(audited(detected, id="d"), audited(resolved, id="r"))
    windows = model.tables["drift_windows"].values()
    assert {w["feature"] for w in windows} >= {f.feature for f in detected.features}
    episode = model.tables["drift_episodes"][(detected.drift_id,)]
    assert episode["resolved_at"] is not None
    assert model.tables["models"][(detected.model.name,)]["drift"]["status"] == "resolved"


def test_dataset_verdicts_keep_warnings_and_rejection_reasons() -> None:
    accepted, rejected = _tables(DataValidated)["datasets"], _tables(DataRejected)["datasets"]
    assert accepted["verdict"] == "accepted"
    assert accepted["version"] == example(DataValidated).dataset.version
    assert rejected["verdict"] == "rejected"
    assert rejected["reasons"][0]["code"] == example(DataRejected).reasons[0].code


def test_a_run_collects_params_metrics_and_its_registered_version() -> None:
    model = InMemoryReadModel()
    trained = example(ModelTrained)
    model.feed(
        audited(example(TrainingStarted), id="s"),
        audited(trained, id="t"),
        audited(example(ModelRegistered), id="r"),
    )
    run = model.tables["runs"][(trained.run_id,)]
    assert run["status"] == "trained"
    assert run["params"] == trained.params
    assert run["metrics"] == trained.metrics
    assert run["trigger"] == example(TrainingStarted).trigger
    registered = example(ModelRegistered)
    assert run["version"] == registered.model.version


def test_a_failed_run_shows_its_reason_on_the_overview_row() -> None:
    row = _tables(TrainingFailed)["models"]
    assert row["training"]["status"] == "failed"
    assert row["training"]["reason"] == example(TrainingFailed).reason.code


def test_a_known_type_without_its_fields_is_refused_with_the_event_named() -> None:
    broken = AuditedEvent(
        id="bad-1",
        type=ModelApproved.ce_type,
        subject="m",
        actor="user:x",
        time=audited(example(ModelApproved)).time,
        data={"model": {"name": "m"}},
    )
    with pytest.raises(UnprojectableEventError, match="bad-1"):
        project(broken)


def test_a_direct_promotion_with_the_longest_event_id_still_fits_its_rollout_key() -> None:
    promoted = example(ModelPromoted).model_copy(update={"canary_id": None, "via": "direct"})
    event = audited(promoted, id="e" * 128)
    step = next(c for c in project(event) if c.table == "rollout_steps")
    assert len(step.values["canary_id"]) <= 128
