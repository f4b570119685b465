"""Training's repository: specs, accepted versions, durable jobs and runs in PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert

from driftline.training.adapters.job_rows import job_from_row, submission_document
from driftline.training.adapters.production_rows import PostgresProductionRows
from driftline.training.adapters.tables import (
    JOB_KEY,
    dataset_versions,
    jobs,
    runs,
    spec_history,
    specs,
)
from driftline.training.core import Job, JobStatus, LastRun, NewJob, SpecRecord
from driftline.training.records import RunRecord
from driftline.training.windows import AcceptedVersion
from driftline_contracts.values import DatasetRef

TRAIN_JOBS = jobs.c.submission_sha256 == ""


def _spec(row: Row) -> SpecRecord:
    return SpecRecord(row.model, row.dataset, row.spec_hash, row.spec)


class PostgresTrainingRepository(PostgresProductionRows):
    """Everything training remembers, used inside the caller's transaction."""

    async def lock_dataset(self, dataset: str) -> None:
        """Serialize, until commit, the transactions that pair specs with versions of ``dataset``.

        A spec and a version of its dataset handled at the same time would each miss the
        other's uncommitted row and queue no job at all; with the lock the second one sees
        the first.
        """
        key = func.hashtextextended(f"driftline.training.dataset:{dataset}", 0)
        await self._session.execute(select(func.pg_advisory_xact_lock(key)))

    async def save_spec(self, spec: SpecRecord) -> None:
        """Make ``spec`` the model's current spec and keep it in the history."""
        values = {"model": spec.model, "dataset": spec.dataset, "spec_hash": spec.spec_hash}
        statement = insert(specs).values(**values, spec=spec.spec, updated_at=func.now())
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[specs.c.model],
                set_={k: statement.excluded[k] for k in ("dataset", "spec_hash", "spec")}
                | {"updated_at": func.now()},
            )
        )
        history = insert(spec_history).values(
            model=spec.model, spec_hash=spec.spec_hash, spec=spec.spec, applied_at=func.now()
        )
        await self._session.execute(history.on_conflict_do_nothing())

    async def spec(self, model: str) -> SpecRecord | None:
        """The current spec of ``model``."""
        row = (await self._session.execute(select(specs).where(specs.c.model == model))).first()
        return _spec(row) if row else None

    async def specs_for(self, dataset: str) -> list[SpecRecord]:
        """Current specs of every model training on ``dataset``."""
        rows = await self._session.execute(
            select(specs).where(specs.c.dataset == dataset).order_by(specs.c.model)
        )
        return [_spec(r) for r in rows]

    async def record_version(
        self, dataset: DatasetRef, event_id: str, accepted_at: datetime | None = None
    ) -> None:
        """Remember an accepted dataset version (once), with when it was accepted."""
        statement = insert(dataset_versions).values(
            dataset=dataset.name,
            version=dataset.version,
            sha256=dataset.sha256,
            ref=dataset.model_dump(mode="json"),
            event_id=event_id,
            accepted_at=accepted_at,
        )
        await self._session.execute(statement.on_conflict_do_nothing())

    async def latest_version(self, dataset: str) -> DatasetRef | None:
        """The newest accepted version of ``dataset`` seen."""
        ref = await self._session.scalar(
            select(dataset_versions.c.ref)
            .where(dataset_versions.c.dataset == dataset)
            .order_by(dataset_versions.c.version.desc())
            .limit(1)
        )
        return DatasetRef.model_validate(ref) if ref is not None else None

    async def accepted_versions(self, dataset: str, up_to: int) -> list[AcceptedVersion]:
        """Accepted versions of ``dataset`` numbered at most ``up_to``, oldest first."""
        rows = await self._session.execute(
            select(dataset_versions.c.ref, dataset_versions.c.accepted_at)
            .where(dataset_versions.c.dataset == dataset, dataset_versions.c.version <= up_to)
            .order_by(dataset_versions.c.version)
        )
        return [AcceptedVersion(DatasetRef.model_validate(r.ref), r.accepted_at) for r in rows]

    async def enqueue(self, job: NewJob, *, retry_failed: bool = False) -> bool:
        """Queue ``job``; False when its training key already has a job (a failed one counts
        only without ``retry_failed``: a re-applied spec retries, a drift does not)."""
        key = (job.model, job.dataset.sha256, job.spec_hash, job.labelled_until)
        if not retry_failed and await self.job_status(*key) == "failed":
            return False
        statement = insert(jobs).values(
            model=job.model,
            dataset_sha256=job.dataset.sha256,
            spec_hash=job.spec_hash,
            run_id=job.run_id,
            dataset=job.dataset.model_dump(mode="json"),
            spec=job.spec,
            trigger=job.trigger,
            cause=None if job.cause is None else job.cause.model_dump_json(),
            status="queued",
            attempt=0,
            labelled_until=job.labelled_until,
            kind=job.kind,
            submission=submission_document(job),
            submission_sha256=job.submission.artifact.sha256 if job.submission else "",
        )
        result = await self._session.execute(
            statement.on_conflict_do_nothing(
                index_elements=list(JOB_KEY),
                # A literal, never a bound parameter: once asyncpg's prepared statement goes to
                # PostgreSQL's generic plan (after five runs) a parameter here no longer proves
                # the partial index's predicate, and every insert failed ("no unique or
                # exclusion constraint matching the ON CONFLICT specification").
                index_where=text("status <> 'failed'"),
            ).returning(jobs.c.id)
        )
        return result.first() is not None

    async def job_status(
        self, model: str, sha256: str, spec_hash: str, labelled_until: int = 0
    ) -> JobStatus | None:
        """Status of the job for this training key, if there is one."""
        return await self._session.scalar(
            select(jobs.c.status)
            .where(
                jobs.c.model == model,
                jobs.c.dataset_sha256 == sha256,
                jobs.c.spec_hash == spec_hash,
                jobs.c.labelled_until == labelled_until,
                TRAIN_JOBS,
            )
            .order_by(jobs.c.id.desc())
            .limit(1)  # a retried key: its newest job
        )

    async def last_run(self, model: str) -> LastRun | None:
        """Dataset sha256 and label cut-off of the model's latest successful run."""
        row = (
            await self._session.execute(
                select(runs.c.dataset_sha256, jobs.c.labelled_until)
                .join(jobs, jobs.c.id == runs.c.job_id)
                .where(runs.c.model == model, runs.c.status == "succeeded", TRAIN_JOBS)
                .order_by(runs.c.created_at.desc())
                .limit(1)
            )
        ).first()
        return LastRun(row.dataset_sha256, row.labelled_until) if row else None

    async def claim(self, lease_s: float, worker: str = "") -> Job | None:
        """Take the oldest queued job, or one whose worker's lease ran out; sign it ``worker``."""
        expired = func.now() - timedelta(seconds=lease_s)
        candidate = (
            select(jobs.c.id)
            .where(
                or_(
                    jobs.c.status == "queued",
                    (jobs.c.status == "running") & (jobs.c.claimed_at < expired),
                )
            )
            .order_by(jobs.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        row = (
            await self._session.execute(
                update(jobs)
                .where(jobs.c.id == candidate)
                .values(
                    status="running",
                    attempt=jobs.c.attempt + 1,
                    claimed_at=func.now(),
                    claimed_by=worker or None,
                )
                .returning(*jobs.c)
            )
        ).first()
        return job_from_row(row) if row else None

    async def requeue_abandoned(self, worker: str) -> list[str]:
        """Queue again the jobs ``worker`` held when it died (it is starting, so holds none).

        The attempt is kept: the crash counts, so a job that kills its worker every time
        still fails after ``max_attempts`` claims. Run ids of the requeued jobs.
        """
        result = await self._session.execute(
            update(jobs)
            .where(jobs.c.status == "running", jobs.c.claimed_by == worker)
            .values(status="queued", claimed_at=None, claimed_by=None)
            .returning(jobs.c.run_id)
        )
        return [row.run_id for row in result]

    def _owned(self, job: Job) -> ColumnElement[bool]:
        """Rows of ``job`` as long as this claim of it is current."""
        claim = (jobs.c.id == job.id) & (jobs.c.attempt == job.attempt)
        return claim & (jobs.c.status == "running")

    async def renew(self, job: Job) -> bool:
        """Extend the lease; False when another worker has taken the job over."""
        result = await self._session.execute(
            update(jobs).where(self._owned(job)).values(claimed_at=func.now()).returning(jobs.c.id)
        )
        return result.first() is not None

    async def release(self, job: Job) -> bool:
        """Put a job back in the queue (an outage or a shutdown is not an attempt)."""
        result = await self._session.execute(
            update(jobs)
            .where(self._owned(job))
            .values(status="queued", attempt=job.attempt - 1, claimed_at=None, claimed_by=None)
            .returning(jobs.c.id)
        )
        return result.first() is not None

    async def finish(self, job: Job, status: JobStatus) -> bool:
        """Mark the job done; False when this worker no longer owns it (nothing is recorded)."""
        result = await self._session.execute(
            update(jobs)
            .where(self._owned(job))
            .values(status=status, finished_at=func.now())
            .returning(jobs.c.id)
        )
        return result.first() is not None

    async def add_run(self, job: Job, record: RunRecord) -> None:
        """Record a finished run."""
        values = record.model_dump(mode="json", exclude={"created_at"})
        await self._session.execute(
            insert(runs).values(
                **values,
                job_id=job.id,
                dataset_version=record.dataset.version,
                dataset_sha256=record.dataset.sha256,
                created_at=func.now(),
            )
        )

    async def runs(self, model: str | None = None, limit: int = 200) -> list[RunRecord]:
        """Recorded runs, newest first, optionally of one model."""
        query = select(runs).order_by(runs.c.created_at.desc()).limit(limit)
        if model is not None:
            query = query.where(runs.c.model == model)
        rows = await self._session.execute(query)
        return [RunRecord.model_validate(r, from_attributes=True) for r in rows]

    async def run(self, run_id: str) -> RunRecord | None:
        """One run by id."""
        row = (await self._session.execute(select(runs).where(runs.c.run_id == run_id))).first()
        return RunRecord.model_validate(row, from_attributes=True) if row else None

    async def run_spec(self, run_id: str) -> dict[str, Any] | None:
        """The spec snapshot the run's job trained with."""
        return await self._session.scalar(
            select(jobs.c.spec)
            .join(runs, runs.c.job_id == jobs.c.id)
            .where(runs.c.run_id == run_id)
        )
