"""The worker's rules: one run per job, outcomes only while owning the claim, resumes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from driftline.runtime.storage.local import LocalArtifactStore
from driftline.training.core import LabelledRow, job_for, spec_record
from driftline.training.runner import RunOutput
from driftline.training.settings import TrainingSection, worker_identity
from driftline.training.windows import AcceptedVersion
from driftline.training.worker import TrainingWorker
from driftline_contracts.envelope import Envelope
from driftline_contracts.events.training import ModelTrained, TrainingFailed, TrainingStarted
from driftline_contracts.values import DatasetRef
from tests.unit.training.builders import cancer, spec
from tests.unit.training.fakes import FakeChampions, FakeJobs, FakeUnits, InlinePool

CAUSE = Envelope(
    source="test",
    type="io.driftline.data.validated.v1",
    subject="cancer",
    correlationid="corr-1",
    actor="service:validation",
)


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "store")


async def _dataset(store: LocalArtifactStore) -> DatasetRef:
    stored = await store.put_bytes("datasets/cancer/v1.csv", cancer().to_csv(index=False).encode())
    return DatasetRef(name="cancer", version=1, uri=stored.uri, sha256=stored.sha256, format="csv")


def _setup(
    store: LocalArtifactStore, pool: InlinePool | None = None, **section: float
) -> tuple[TrainingWorker, FakeUnits, FakeJobs]:
    units, jobs = FakeUnits(), FakeJobs()
    worker = TrainingWorker(
        units=units,  # type: ignore[arg-type]
        store=store,
        settings=TrainingSection(**section),
        pool=pool or InlinePool(),  # type: ignore[arg-type]
        repository=lambda _: jobs,
        champions=lambda _: FakeChampions(),
    )
    return worker, units, jobs


def _job(dataset: DatasetRef, target: str = "target"):
    document = spec(target=target).model_dump(mode="json")
    return job_for(spec_record("cancer-clf", "f" * 64, document), dataset, "data_validated", CAUSE)


async def test_a_queued_job_trains_once_and_records_the_run(store: LocalArtifactStore) -> None:
    worker, units, jobs = _setup(store)
    job = jobs.add(_job(await _dataset(store)))
    assert await worker.run_once()
    assert not await worker.run_once()
    (started,) = units.events(TrainingStarted)
    (trained,) = units.events(ModelTrained)
    assert (started.run_id, started.attempt) == (job.run_id, 1)
    assert trained.run_id == job.run_id
    assert trained.metrics["accuracy"] > 0.9
    assert all(cause == CAUSE for _, cause in units.committed)
    assert (await store.stat(trained.artifact.uri)).sha256 == trained.artifact.sha256
    assert jobs.jobs[job.id].status == "succeeded"
    assert [r.status for r in jobs.runs] == ["succeeded"]
    assert jobs.runs[0].lineage["packages"]["scikit-learn"]


async def test_a_reclaimed_job_resumes_with_its_run_id(store: LocalArtifactStore) -> None:
    worker, units, jobs = _setup(store)
    job = jobs.add(_job(await _dataset(store)), status="running", attempt=1)
    jobs.expired = True
    assert await worker.run_once()
    (started,) = units.events(TrainingStarted)
    (trained,) = units.events(ModelTrained)
    assert started.attempt == 2
    assert trained.run_id == job.run_id
    assert len(jobs.runs) == 1


async def test_a_worker_that_lost_its_claim_records_nothing(store: LocalArtifactStore) -> None:
    pool = InlinePool()
    worker, units, jobs = _setup(store, pool)
    job = jobs.add(_job(await _dataset(store)))

    def taken_over() -> None:  # another worker reclaims the job while this one trains
        jobs.jobs[job.id] = replace(jobs.jobs[job.id], attempt=2)

    pool.during = taken_over
    assert await worker.run_once()
    assert units.events(ModelTrained) == []
    assert jobs.runs == []


async def test_a_job_whose_workers_keep_dying_fails(store: LocalArtifactStore) -> None:
    worker, units, jobs = _setup(store, max_attempts=2)
    jobs.add(_job(await _dataset(store)), status="running", attempt=2)
    jobs.expired = True
    assert await worker.run_once()
    (failed,) = units.events(TrainingFailed)
    assert failed.reason.code == "resource_limit"
    assert failed.retryable
    assert units.events(TrainingStarted) == []


async def test_bytes_that_do_not_match_the_dataset_hash_are_not_trained_on(
    store: LocalArtifactStore,
) -> None:
    worker, units, jobs = _setup(store)
    dataset = (await _dataset(store)).model_copy(update={"sha256": "0" * 64})
    jobs.add(_job(dataset))
    assert await worker.run_once()
    (failed,) = units.events(TrainingFailed)
    assert failed.reason.code == "data_unavailable"
    assert units.events(ModelTrained) == []


async def test_a_missing_target_fails_the_run(store: LocalArtifactStore) -> None:
    worker, units, jobs = _setup(store)
    job = jobs.add(_job(await _dataset(store), target="nope"))
    assert await worker.run_once()
    (failed,) = units.events(TrainingFailed)
    assert (failed.reason.code, failed.reason.field, failed.retryable) == (
        "bad_target",
        "nope",
        False,
    )
    assert jobs.jobs[job.id].status == "failed"
    assert jobs.runs[0].failure == failed.reason


async def test_a_restarted_worker_resumes_its_own_jobs_without_waiting_for_the_lease(
    store: LocalArtifactStore,
) -> None:
    worker, units, jobs = _setup(store)
    worker.worker = "host-a:8103"
    dataset = await _dataset(store)
    mine = jobs.add(_job(dataset), status="running", attempt=1)
    jobs.claimed_by[mine.id] = "host-a:8103"
    other = _job(dataset.model_copy(update={"sha256": "b" * 64}))
    theirs = jobs.add(other, status="running", attempt=1)
    jobs.claimed_by[theirs.id] = "host-b:8103"
    await worker.recover()
    assert jobs.jobs[mine.id].status == "queued"
    assert jobs.jobs[theirs.id].status == "running"  # alive elsewhere: its lease decides
    assert await worker.run_once()
    (started,) = units.events(TrainingStarted)
    assert (started.run_id, started.attempt) == (mine.run_id, 2)
    assert [r.run_id for r in jobs.runs] == [mine.run_id]
    assert jobs.claimed_by[mine.id] == "host-a:8103"


def test_worker_identity_is_stable_across_restarts_of_a_replica() -> None:
    assert worker_identity(TrainingSection(port=8103), host="h") == "h:8103"
    assert worker_identity(TrainingSection(port=8103, worker_id="pod-3"), host="h") == "pod-3"
    anywhere = worker_identity(TrainingSection(port=0), host="h")
    assert anywhere.startswith("h:pid")


def _production_rows(count: int) -> list[tuple[int, LabelledRow]]:
    """Labelled production rows shaped like cancer rows (features as served, true label)."""
    frame = cancer().sample(count, random_state=1)
    features = frame.drop(columns="target").to_dict(orient="records")
    pairs = zip(features, frame["target"], strict=True)
    return [(i + 1, LabelledRow(f"req-{i}", int(t), f)) for i, (f, t) in enumerate(pairs)]


async def test_a_drift_retrain_adds_the_labelled_production_rows(
    store: LocalArtifactStore,
) -> None:
    worker, units, jobs = _setup(store)
    jobs.labelled = _production_rows(60)
    document = spec().model_dump(mode="json")
    record = spec_record("cancer-clf", "f" * 64, document)
    new = job_for(record, await _dataset(store), "drift_detected", CAUSE, labelled_until=50)
    jobs.add(new)
    assert await worker.run_once()
    (trained,) = units.events(ModelTrained)
    assert trained.train_rows + trained.holdout_rows == len(cancer()) + 50
    (run,) = jobs.runs
    assert run.lineage["labelled_rows"] == 50
    ref = run.artifacts["labelled_rows.csv"]
    stored = await store.get_bytes(ref.uri, sha256=ref.sha256)
    assert stored.decode().splitlines()[0].endswith(",target")
    assert len(stored.decode().splitlines()) == 51


async def _versions(store: LocalArtifactStore, parts: int) -> list[DatasetRef]:
    """The cancer rows in ``parts`` accepted versions (the last repeats 10 rows of the first)."""
    frame, refs = cancer(), []
    chunks = [frame.iloc[i::parts] for i in range(parts)]
    chunks[-1] = pd.concat([chunks[-1], chunks[0].head(10)])
    for number, chunk in enumerate(chunks, start=1):
        stored = await store.put_bytes(f"datasets/cancer/v{number}.csv",
                                       chunk.to_csv(index=False).encode())  # fmt: skip
        refs.append(DatasetRef(name="cancer", version=number, uri=stored.uri,
                               sha256=stored.sha256, format="csv"))  # fmt: skip
    return refs


@pytest.mark.parametrize(
    ("window", "versions"),
    [({}, [1, 2, 3]), ({"versions": "newest"}, [3]), ({"versions": "last", "last": 2}, [2, 3])],
)
async def test_a_run_trains_on_its_window_of_accepted_versions(
    store: LocalArtifactStore, window: dict, versions: list[int]
) -> None:
    """Every accepted version by default (repeated rows once), as named in ModelTrained and
    in the run record; labelled rows of a drift retrain come on top and are counted."""
    worker, units, jobs = _setup(store)
    refs = await _versions(store, 3)
    jobs.versions = [AcceptedVersion(r) for r in refs]
    jobs.labelled = _production_rows(30)
    record = spec_record("cancer-clf", "f" * 64, spec(window=window).model_dump(mode="json"))
    jobs.add(job_for(record, refs[-1], "drift_detected", CAUSE, labelled_until=30))
    assert await worker.run_once()
    (trained,) = units.events(ModelTrained)
    assert [d.version for d in trained.datasets] == versions
    assert trained.dataset == refs[-1]
    assert trained.labelled_rows == 30
    sizes = {1: 190, 2: 190, 3: 189}  # cancer's 569 rows in three; v3 repeats 10 of v1
    expected = sum(sizes[v] for v in versions) + (10 if versions != [1, 2, 3] else 0)
    assert trained.train_rows + trained.holdout_rows == expected + 30
    (run,) = jobs.runs
    assert [d["version"] for d in run.lineage["datasets"]] == versions
    assert (run.lineage["window_rows"], run.lineage["labelled_rows"]) == (expected, 30)


async def test_a_trained_model_records_its_input_signature(store: LocalArtifactStore) -> None:
    worker, units, jobs = _setup(store)
    jobs.add(_job(await _dataset(store)))
    assert await worker.run_once()
    (trained,) = units.events(ModelTrained)
    assert trained.signature is not None
    columns = {c.name: c for c in trained.signature.columns}
    assert "target" not in columns
    assert columns["mean_radius"].dtype == "number"
    assert "signature.json" in jobs.runs[0].artifacts


async def test_a_limit_of_zero_labelled_rows_trains_on_the_dataset_alone(
    store: LocalArtifactStore,
) -> None:
    worker, units, jobs = _setup(store, max_labelled_rows=0)
    jobs.labelled = _production_rows(10)
    record = spec_record("cancer-clf", "f" * 64, spec().model_dump(mode="json"))
    jobs.add(job_for(record, await _dataset(store), "drift_detected", CAUSE, labelled_until=10))
    assert await worker.run_once()
    (trained,) = units.events(ModelTrained)
    assert trained.train_rows + trained.holdout_rows == len(cancer())
    assert "labelled_rows.csv" not in jobs.runs[0].artifacts


@dataclass
class SlowPool(InlinePool):
    """Trains after ``seconds``; ``started`` is set once the fit has begun."""

    seconds: float = 0.0
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def train(self, *args: Any, **kwargs: Any) -> RunOutput:
        self.started.set()
        await asyncio.sleep(self.seconds)
        return await super().train(*args, **kwargs)


async def _stop_while_training(worker: TrainingWorker, pool: SlowPool) -> None:
    """Cancel ``run_once`` mid-fit, as the service's shutdown does, and wait for it to end."""
    running = asyncio.create_task(worker.run_once())
    await pool.started.wait()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running


async def test_a_stopping_worker_finishes_its_job_within_the_grace_period(
    store: LocalArtifactStore,
) -> None:
    pool = SlowPool(seconds=0.3)
    worker, units, jobs = _setup(store, pool, graceful_timeout_s=10)
    job = jobs.add(_job(await _dataset(store)))
    await _stop_while_training(worker, pool)
    assert jobs.jobs[job.id].status == "succeeded"
    assert [t.run_id for t in units.events(ModelTrained)] == [job.run_id]


async def test_a_job_outlasting_the_grace_period_is_released_untrained(
    store: LocalArtifactStore,
) -> None:
    pool = SlowPool(seconds=60)
    worker, units, jobs = _setup(store, pool, graceful_timeout_s=0.2)
    job = jobs.add(_job(await _dataset(store)))
    await _stop_while_training(worker, pool)
    assert jobs.jobs[job.id].status == "queued"
    assert units.events(ModelTrained) == []


@dataclass
class DownJobs(FakeJobs):
    """Job storage that refuses ``releases_refused`` releases, as a stopped PostgreSQL does."""

    releases_refused: int = 0

    async def release(self, job: Any) -> bool:
        if self.releases_refused:
            self.releases_refused -= 1
            raise ConnectionRefusedError("PostgreSQL is down")
        return await super().release(job)


@dataclass
class DownStore(InlinePool):
    """A pool whose run fails the way a dependency outage does."""

    async def train(self, *args: Any, **kwargs: Any) -> RunOutput:
        raise ConnectionRefusedError("S3 is down")


async def test_a_job_failing_in_an_outage_is_released_once_postgres_answers_again(
    store: LocalArtifactStore,
) -> None:
    jobs = DownJobs(releases_refused=3)
    worker = TrainingWorker(
        units=FakeUnits(),  # type: ignore[arg-type]
        store=store,
        settings=TrainingSection(poll_interval_s=0.01),
        pool=DownStore(),  # type: ignore[arg-type]
        repository=lambda _: jobs,
        champions=lambda _: FakeChampions(),
    )
    job = jobs.add(_job(await _dataset(store)))
    with pytest.raises(ConnectionRefusedError):
        await worker.run_once()
    # Queued again at once, not left claimed until its lease (120 s) runs out.
    assert jobs.jobs[job.id].status == "queued"
    assert jobs.releases_refused == 0
