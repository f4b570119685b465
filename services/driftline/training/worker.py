"""The training worker: claims durable jobs, trains in a process, records the outcome.

A job is claimed with ``FOR UPDATE SKIP LOCKED`` (so replicas share the queue), its lease is
renewed while it trains, and its outcome is recorded only while this worker still owns the
claim (same ``attempt``), so a job reclaimed from a crashed worker yields one run, not two.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tenacity import RetryCallState

from driftline.runtime.background import BackgroundJob
from driftline.runtime.errors import is_transient
from driftline.runtime.logging import get_logger
from driftline.runtime.metrics import Metrics
from driftline.runtime.openlineage import LineageEmitter
from driftline.runtime.retry import RetryPolicy, failure_kind, failure_of, is_failure
from driftline.runtime.stop_watch import cancel_and_wait
from driftline.runtime.storage import ArtifactStore
from driftline.runtime.storage.errors import StorageError
from driftline.runtime.uow import UnitOfWorkFactory
from driftline.training import outcomes
from driftline.training.adapters.artifacts import store_run_artifacts
from driftline.training.adapters.champions import PostgresChampions, fetch_champion
from driftline.training.adapters.datasets import fetch_window
from driftline.training.adapters.postgres import PostgresTrainingRepository
from driftline.training.adapters.production import (
    LABELLED_ROWS,
    labelled_csv,
    store_labelled,
    with_features,
)
from driftline.training.core import Job, JobStatus, lease_lost
from driftline.training.lineage import lineage
from driftline.training.openlineage import TrainingRun
from driftline.training.pool import TrainingPool
from driftline.training.run_io import RunOutput
from driftline.training.settings import TrainingSection
from driftline.training.submission_runs import score_submitted
from driftline.training.windows import versions_in_window
from driftline_contracts.modelspec import TrainingWindow
from driftline_contracts.values import DatasetRef, Reason

log = get_logger(__name__)


@dataclass
class Lease:
    """Whether this worker still owns the job it trains."""

    lost: bool = False


@dataclass
class TrainingWorker:
    """Background job of the training service: loops claiming and running jobs."""

    units: UnitOfWorkFactory
    store: ArtifactStore
    settings: TrainingSection
    pool: TrainingPool
    workdir: Path | None = None
    repository: Callable[[Any], Any] = PostgresTrainingRepository
    """Builds the job repository on a unit's session (a fake in unit tests)."""
    worker: str = ""
    """This replica's identity, stable across restarts (signs claims)."""
    lineage: LineageEmitter | None = None
    """Where OpenLineage run events go (none in unit tests unless given)."""
    champions: Callable[[Any], Any] = PostgresChampions
    """Builds the champion lookup on a unit's session (a fake in unit tests)."""
    metrics: Metrics | None = None
    """Where the claim loop counts its failures (outage or bug)."""

    async def run_forever(self) -> None:
        """Requeue what this worker held before a crash, then run ``max_workers`` claim loops."""
        await self.recover()
        await asyncio.gather(*(self._loop() for _ in range(self.settings.max_workers)))

    def _database(self, max_s: float) -> RetryPolicy:
        return RetryPolicy("database", self.settings.poll_interval_s, max_s)

    async def recover(self) -> None:
        """Requeue the jobs a previous life of this worker was running (no lease wait)."""
        if not self.worker:
            return

        async def requeue() -> Any:
            async with self.units() as uow:
                return await self.repository(uow.session).requeue_abandoned(self.worker)

        def failed(state: RetryCallState) -> None:
            exc = failure_of(state)
            log.warning("requeue of abandoned jobs failed", kind=failure_kind(exc),
                        error=repr(exc), retry_in_s=state.upcoming_sleep)  # fmt: skip

        requeued = await self._database(30.0).call(requeue, retry_on=is_failure, on_retry=failed)
        if requeued:
            log.warning("jobs abandoned by a crash requeued", worker=self.worker, runs=requeued)

    async def _loop(self) -> None:
        job = BackgroundJob(
            "training-worker",
            self.run_once,
            self._database(30.0),
            idle_s=self.settings.poll_interval_s,
            metrics=self.metrics,
        )
        await job.run_forever()

    async def run_once(self) -> bool:
        """Claim and run one job; False when there was none."""
        async with self.units() as uow:
            job = await self.repository(uow.session).claim(self.settings.lease_s, self.worker)
        if job is None:
            return False
        log.info("training job claimed", model=job.model, run_id=job.run_id, attempt=job.attempt)
        if lease_lost(job.attempt, self.settings.max_attempts):
            message = f"job claimed {job.attempt} times; its workers keep dying"
            await self._fail(job, outcomes.failure_reason("resource_limit", message))
            return True
        work = asyncio.ensure_future(self._run(job))
        try:
            await asyncio.shield(work)
        except asyncio.CancelledError:
            await self._finish_within_grace(job, work)
            raise
        return True

    async def _run(self, job: Job) -> None:
        try:
            await self._emit_started(job)
            await self._execute(job)
        except asyncio.CancelledError:
            await asyncio.shield(self._release(job, keep_trying=False))
            raise
        except Exception as exc:
            if is_transient(exc):
                await self._release(job)
                raise
            log.exception("training job failed unexpectedly", run_id=job.run_id)
            await self._fail(job, outcomes.failure_reason("internal_error", repr(exc)))

    async def _finish_within_grace(self, job: Job, work: asyncio.Future[None]) -> None:
        """The service is stopping: let the running job finish within the grace period;
        past it, cut it off (released, it trains again on the next claim)."""
        try:
            await asyncio.wait({work}, timeout=self.settings.graceful_timeout_s)
        finally:
            if not work.done():
                log.warning("training job cut off by shutdown", run_id=job.run_id)
                work.cancel()
        await asyncio.wait({work})
        if not work.cancelled() and work.exception() is not None:
            log.warning("training job failed while stopping", error=repr(work.exception()))

    async def _emit_started(self, job: Job) -> None:
        async with self.units(cause=job.cause) as uow:
            await uow.emit(outcomes.started(job), correlation_id=job.correlation_id)
        await TrainingRun(self.lineage, job).started()

    async def _execute(self, job: Job) -> None:
        async with self._heartbeat(job) as lease:
            labelled = await self._labelled(job)
            versions = await self._window(job)
            with tempfile.TemporaryDirectory(dir=self.workdir) as folder:
                output = await self._train(job, Path(folder), versions, labelled)
            if lease.lost:
                log.warning("lease lost while training; result discarded", run_id=job.run_id)
                return
            if output.failure is not None:
                await self._fail(job, outcomes.failure_reason(*output.failure))
                return
            artifacts = await store_run_artifacts(self.store, job.model, job.run_id, output)
            facts = {**lineage(), **outcomes.window_facts(versions, output)}
            if labelled is not None:
                artifacts[LABELLED_ROWS] = await store_labelled(self.store, job, labelled[1])
            event, record = outcomes.trained(job, output, artifacts, facts, versions)
            await self._finish(job, "succeeded", event, record)

    async def _labelled(self, job: Job) -> tuple[int, bytes] | None:
        """Row count and CSV of the labelled production rows the job adds, if any."""
        if job.labelled_until <= 0 or self.settings.max_labelled_rows <= 0:
            return None
        async with self.units() as uow:
            kept = await self.repository(uow.session).labelled_rows(
                job.model, job.labelled_until, self.settings.max_labelled_rows
            )
        rows = await with_features(kept, self.store, self.settings.max_batch_bytes)
        target = str(job.spec["target"])
        return (len(rows), labelled_csv(rows, target)) if rows else None

    async def _window(self, job: Job) -> list[DatasetRef]:
        """The accepted versions the spec's training window reads, oldest first."""
        window = TrainingWindow.model_validate(job.spec.get("window") or {})
        if window.versions == "newest" or job.dataset.version is None:
            return [job.dataset]
        async with self.units() as uow:
            accepted = await self.repository(uow.session).accepted_versions(
                job.dataset.name, job.dataset.version
            )
        return versions_in_window(accepted, job.dataset, window)

    async def _train(
        self,
        job: Job,
        folder: Path,
        versions: list[DatasetRef],
        labelled: tuple[int, bytes] | None,
    ) -> RunOutput:
        """Download the window's versions (verifying each sha256) and train in a process."""
        try:
            files = await fetch_window(self.store, versions, folder)
        except StorageError as exc:
            if is_transient(exc):
                raise
            return RunOutput(failure=("data_unavailable", f"{type(exc).__name__}: {exc}", None))
        async with self.units() as uow:
            found = await self.champions(uow.session).get(job.model)
        champion = await fetch_champion(self.store, job.model, found, folder)
        s = self.settings
        if job.submission is not None:
            return await score_submitted(self.store, self.pool, job, files, champion, s)
        extra = None
        if labelled is not None:
            extra = folder / LABELLED_ROWS
            extra.write_bytes(labelled[1])
        return await self.pool.train(
            files, job.dataset.format, job.spec, s.max_rows, s.timeout_s,
            str(extra) if extra else None, champion=champion,
        )  # fmt: skip

    async def _fail(self, job: Job, reason: Reason) -> None:
        event, record = outcomes.failed(job, reason)
        log.warning("training failed", run_id=job.run_id, reason=reason.code)
        await self._finish(job, "failed", event, record)

    async def _finish(self, job: Job, status: JobStatus, event: Any, record: Any) -> None:
        """Record the run and emit its event, only if this worker still owns the job."""
        async with self.units(cause=job.cause) as uow:
            repo = self.repository(uow.session)
            if not await repo.finish(job, status):
                log.warning("job taken over by another worker; outcome dropped", run_id=job.run_id)
                return
            await repo.add_run(job, record)
            await uow.emit(event, correlation_id=job.correlation_id)
        log.info("training job finished", run_id=job.run_id, status=status)
        await TrainingRun(self.lineage, job).finished(event)

    async def _release(self, job: Job, keep_trying: bool = True) -> None:
        """Put the job back in the queue. While PostgreSQL is away keep trying, for as long as
        the lease would last (a job left claimed waits out its whole lease after the outage);
        a shutdown tries once."""
        policy = self._database(10.0).with_(
            deadline_s=self.settings.lease_s if keep_trying else None,
            attempts=None if keep_trying else 1,
        )

        async def release() -> None:
            async with self.units() as uow:
                await self.repository(uow.session).release(job)

        def failed(state: RetryCallState) -> None:
            log.warning("training job release failed, retrying", retry_in_s=state.upcoming_sleep)

        try:
            await policy.call(release, on_retry=failed)
        except Exception as exc:  # not an outage, or the lease would have run out by now
            log.warning("training job not released", run_id=job.run_id, error=repr(exc))

    @contextlib.asynccontextmanager
    async def _heartbeat(self, job: Job) -> AsyncIterator[Lease]:
        """Renew the job's lease every third of it while the body runs."""
        lease = Lease()

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.settings.lease_s / 3)
                try:
                    async with self.units() as uow:
                        owned = await self.repository(uow.session).renew(job)
                except Exception as exc:
                    log.warning("lease renewal failed", error=repr(exc))
                    continue
                if not owned:
                    lease.lost = True
                    return

        task = asyncio.create_task(renew())
        try:
            yield lease
        finally:
            await cancel_and_wait(task)
