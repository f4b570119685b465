"""Submission jobs in PostgreSQL: queued once per file, model, data and spec; found by id."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.training.adapters.job_rows import job_from_row
from driftline.training.adapters.postgres import PostgresTrainingRepository
from driftline.training.adapters.tables import jobs
from driftline.training.core import Job, NewJob


class PostgresSubmissionJobs:
    """Queue and look up submission jobs, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def queue(self, job: NewJob) -> tuple[Job, bool]:
        """The job scoring ``job``'s file, and whether it is new: the same file sent again
        for the same model, data and spec (a retried upload) is the job already queued, run
        or succeeded, never a second one."""
        assert job.submission is not None, "only submission jobs"
        await PostgresTrainingRepository(self._session).enqueue(job, retry_failed=True)
        row = (await self._session.execute(
            select(jobs).where(
                jobs.c.model == job.model, jobs.c.dataset_sha256 == job.dataset.sha256,
                jobs.c.spec_hash == job.spec_hash,
                jobs.c.submission_sha256 == job.submission.artifact.sha256,
                jobs.c.status != "failed",
            )
        )).one()  # fmt: skip
        stored = job_from_row(row)
        return stored, stored.run_id == job.run_id

    async def job(self, run_id: str) -> Job | None:
        """The job of a run id (a submission's id is its run id)."""
        row = (await self._session.execute(select(jobs).where(jobs.c.run_id == run_id))).first()
        return job_from_row(row) if row else None
