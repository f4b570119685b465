"""Submission jobs in the worker: scored like a run, announced as the submitter's model, a
hostile file refused with the reason before anything in it runs."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
import skops.io as sio
from sklearn.ensemble import RandomForestClassifier

from driftline.audit.lineage import key_facts
from driftline.runtime.limits import BodyLimit
from driftline.runtime.storage.local import LocalArtifactStore
from driftline.training.app import streamed_bodies
from driftline.training.core import Submission, spec_record, submission_job
from driftline.training.settings import TrainingSection
from driftline.training.submission_runs import UNAVAILABLE
from driftline.training.submissions import REFUSED
from driftline.training.worker import TrainingWorker
from driftline_contracts.events.training import ModelTrained, TrainingFailed, TrainingStarted
from driftline_contracts.values import ArtifactRef, DatasetRef
from tests.unit.training.builders import cancer, spec
from tests.unit.training.fakes import FakeChampions, FakeJobs, FakeUnits, InlinePool


class Payload:
    """Unpickling this creates the marker file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, ...]:
        return (open, (self.path, "w"))


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "store")


def _worker(store: LocalArtifactStore) -> tuple[TrainingWorker, FakeUnits, FakeJobs]:
    units, jobs = FakeUnits(), FakeJobs()
    worker = TrainingWorker(
        units=units,  # type: ignore[arg-type]
        store=store,
        settings=TrainingSection(),
        pool=InlinePool(),  # type: ignore[arg-type]
        repository=lambda _: jobs,
        champions=lambda _: FakeChampions(),
    )
    return worker, units, jobs


async def _queued(store: LocalArtifactStore, jobs: FakeJobs, model: bytes, run: str | None):
    frame = cancer()
    data = await store.put_bytes("datasets/cancer/v1.csv", frame.to_csv(index=False).encode())
    dataset = DatasetRef(name="cancer", version=1, uri=data.uri, sha256=data.sha256, format="csv")
    stored = await store.put_bytes("submissions/cancer-clf/x", model)
    artifact = ArtifactRef(uri=stored.uri, sha256=stored.sha256, size_bytes=stored.size_bytes,
                           media_type="application/octet-stream")  # fmt: skip
    record = spec_record("cancer-clf", "f" * 64, spec().model_dump(mode="json"))
    return jobs.add(submission_job(record, dataset, Submission(artifact, "user:ada", run)))


def _fitted() -> bytes:
    frame = cancer()
    features = frame.drop(columns="target")
    return sio.dumps(RandomForestClassifier(n_estimators=10, random_state=0).fit(
        features, frame["target"]))  # fmt: skip


async def test_a_submission_is_scored_and_announced_as_the_submitters_model(
    store: LocalArtifactStore,
) -> None:
    worker, units, jobs = _worker(store)
    submitted = _fitted()
    job = await _queued(store, jobs, submitted, "a" * 32)
    assert await worker.run_once()
    (started,) = units.events(TrainingStarted)
    (trained,) = units.events(ModelTrained)
    assert (started.trigger, trained.run_id) == ("manual", job.run_id)
    assert trained.trainer == "user:ada"
    assert trained.submitted_from_run == "a" * 32
    assert trained.train_rows == 0
    assert trained.holdout_rows > 0
    assert trained.metrics["accuracy"] > 0.9
    assert trained.signature is not None
    # No causing event: both events share one lifecycle run, named by the submission.
    assert units.correlations == [job.run_id, job.run_id]
    (record,) = jobs.runs
    assert record.lineage["submitted_by"] == "user:ada"
    assert record.lineage["submitted_from_run"] == "a" * 32
    assert await store.get_bytes(trained.artifact.uri) == submitted  # the very bytes it sent
    # The audit lineage of the version shows who submitted it and from which tracked run.
    facts = key_facts(trained.model_dump(mode="json"))
    assert (facts["trainer"], facts["submitted_from_run"]) == ("user:ada", "a" * 32)


async def test_a_pickle_submission_fails_with_the_reason_and_never_runs(
    store: LocalArtifactStore, tmp_path: Path
) -> None:
    worker, units, jobs = _worker(store)
    marker = tmp_path / "pwned"
    await _queued(store, jobs, pickle.dumps(Payload(str(marker))), None)
    assert await worker.run_once()
    (failed,) = units.events(TrainingFailed)
    assert failed.reason.code == REFUSED
    assert "pickle" in failed.reason.message.lower() or "skops" in failed.reason.message.lower()
    assert not failed.retryable
    assert not marker.exists()
    assert units.events(ModelTrained) == []
    assert [r.failure.code for r in jobs.runs if r.failure] == [REFUSED]


async def test_a_submitted_file_altered_in_the_store_is_not_scored(
    store: LocalArtifactStore,
) -> None:
    worker, units, jobs = _worker(store)
    job = await _queued(store, jobs, _fitted(), None)
    await store.put_bytes("submissions/cancer-clf/x", b"other bytes")
    assert await worker.run_once()
    (failed,) = units.events(TrainingFailed)
    assert failed.reason.code == UNAVAILABLE
    assert jobs.jobs[job.id].status == "failed"


async def test_a_submission_left_running_by_a_crash_is_scored_once_under_its_id(
    store: LocalArtifactStore,
) -> None:
    worker, units, jobs = _worker(store)
    job = await _queued(store, jobs, _fitted(), None)
    jobs.jobs[job.id] = replace(job, status="running", attempt=1)  # its worker died mid-scoring
    jobs.expired = True
    assert await worker.run_once()
    jobs.expired = False
    assert not await worker.run_once()
    (trained,) = units.events(ModelTrained)
    assert (trained.run_id, trained.trainer) == (job.run_id, "user:ada")
    assert [r.attempt for r in jobs.runs] == [2]


def test_the_upload_limit_covers_submissions() -> None:
    runtime = SimpleNamespace(section=TrainingSection(max_artifact_bytes=10))
    limits = streamed_bodies(runtime)  # type: ignore[arg-type]
    limit = BodyLimit(lambda *_: None, limit=5, streamed=limits)  # type: ignore[arg-type]
    assert limit._streamed_limit({"method": "POST", "path": "/v1/submissions/churn"}) == 10
