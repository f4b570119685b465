"""Job decisions: which jobs an event asks for, when a retrain is skipped."""

from __future__ import annotations

from typing import Any

import pytest

from driftline.training import core
from driftline_contracts.envelope import Envelope
from driftline_contracts.events.training import RetrainSkipped
from driftline_contracts.values import DatasetRef
from tests.unit.training.builders import spec

CAUSE = Envelope(
    source="test",
    type="io.driftline.data.validated.v1",
    subject="cancer",
    correlationid="corr-1",
    actor="service:validation",
)


def _dataset(version: int | None = 1, sha: str = "a", name: str = "cancer") -> DatasetRef:
    return DatasetRef(
        name=name, version=version, uri=f"s3://b/{name}.csv", sha256=sha * 64, format="csv"
    )


def _record(model: str = "cancer-clf", dataset: str = "cancer") -> core.SpecRecord:
    document: dict[str, Any] = spec(model=model, dataset=dataset).model_dump(mode="json")
    return core.spec_record(model, "f" * 64, document)


def test_spec_record_validates_the_document() -> None:
    record = _record()
    assert (record.model, record.dataset, record.spec_hash) == ("cancer-clf", "cancer", "f" * 64)


def test_invalid_spec_document_is_refused() -> None:
    with pytest.raises(core.InvalidSpecError):
        core.spec_record("m", "f" * 64, {"dataset": "d", "target": "label"})


def test_spec_for_another_model_is_refused() -> None:
    document = spec(model="other").model_dump(mode="json")
    with pytest.raises(core.InvalidSpecError, match="other"):
        core.spec_record("cancer-clf", "f" * 64, document)


def test_accepted_data_queues_a_job_per_model_on_that_dataset() -> None:
    specs = [_record("a"), _record("b"), _record("c", dataset="elsewhere")]
    jobs = core.jobs_for_validated(specs, _dataset(), CAUSE)
    assert [j.model for j in jobs] == ["a", "b"]
    assert {j.trigger for j in jobs} == {"data_validated"}
    assert len({j.run_id for j in jobs}) == 2
    assert all(j.cause == CAUSE for j in jobs)


def test_data_without_a_version_queues_nothing() -> None:
    assert core.jobs_for_validated([_record()], _dataset(version=None), CAUSE) == []


NO_LABELS = core.Labelled()


def test_drift_retrains_on_newer_data() -> None:
    last = core.LastRun("a" * 64, 0)
    decision = core.retrain(_record(), _dataset(version=2, sha="b"), last, NO_LABELS, CAUSE)
    assert isinstance(decision, core.NewJob)
    assert decision.trigger == "drift_detected"
    assert decision.dataset.version == 2
    assert decision.labelled_until == 0


def test_drift_without_new_data_is_skipped() -> None:
    latest = _dataset(version=1, sha="a")
    decision = core.retrain(_record(), latest, core.LastRun("a" * 64, 0), NO_LABELS, CAUSE)
    assert isinstance(decision, RetrainSkipped)
    assert decision.reason.code == "no_new_data"
    assert decision.latest_dataset == latest


def test_drift_without_any_data_is_skipped() -> None:
    decision = core.retrain(_record(), None, None, core.Labelled(rows=5, until=9), CAUSE)
    assert isinstance(decision, RetrainSkipped)
    assert decision.latest_dataset is None


def test_new_production_labels_retrain_on_the_same_data() -> None:
    latest, last = _dataset(version=1, sha="a"), core.LastRun("a" * 64, 7)
    labelled = core.Labelled(rows=120, until=9)
    decision = core.retrain(_record(), latest, last, labelled, CAUSE)
    assert isinstance(decision, core.NewJob)
    assert (decision.dataset, decision.labelled_until) == (latest, 9)
    same = core.retrain(_record(), latest, core.LastRun("a" * 64, 9), labelled, CAUSE)
    assert isinstance(same, RetrainSkipped)
    assert "no production labels arrived since" in same.reason.message


def test_newer_data_also_takes_every_label_so_far() -> None:
    labelled = core.Labelled(rows=3, until=4)
    last = core.LastRun("a" * 64, 4)
    decision = core.retrain(_record(), _dataset(version=2, sha="b"), last, labelled, CAUSE)
    assert isinstance(decision, core.NewJob)
    assert decision.labelled_until == 4


@pytest.mark.parametrize(
    ("status", "code"),
    [("queued", "run_in_progress"), ("running", "run_in_progress"), ("failed", "no_new_data")],
)
def test_retrain_of_a_known_key_says_why(status: core.JobStatus, code: str) -> None:
    job = core.job_for(_record(), _dataset(), "drift_detected", CAUSE)
    assert core.already_queued(job, status).reason.code == code


def test_only_time_and_resource_failures_are_retryable() -> None:
    assert core.is_retryable("timeout")
    assert core.is_retryable("resource_limit")
    assert not core.is_retryable("bad_target")
    assert not core.is_retryable("trainer_error")


def test_a_job_claimed_too_often_is_given_up() -> None:
    assert not core.lease_lost(3, 3)
    assert core.lease_lost(4, 3)
