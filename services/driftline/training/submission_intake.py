"""Accepting a model trained elsewhere: store the file, queue one durable scoring job.

The file is stored first, under its own sha256 (a retried upload overwrites it with the same
bytes), then the job is committed; only then is the submission acknowledged. So a crash
before the commit loses nothing acknowledged, and a retried upload of the same file for the
same model, data and spec finds the job already queued instead of making a second one.
Nothing in the file is loaded here: the job checks it in a confined training process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Literal

from driftline.runtime.logging import get_logger
from driftline.runtime.storage import ArtifactStore
from driftline.training.adapters.postgres import PostgresTrainingRepository
from driftline.training.adapters.submission_jobs import PostgresSubmissionJobs
from driftline.training.core import Job, Submission, submission_job
from driftline.training.records import SubmissionStatus
from driftline.training.tracking.repository import PostgresTrackingRepository
from driftline_contracts.values import ArtifactRef, DatasetRef, Reason

log = get_logger(__name__)
Units = Callable[[], AbstractAsyncContextManager[Any]]
MEDIA_TYPE = "application/octet-stream"
SUBMITTED_TAG = "driftline.submitted"
"""Tag set on the tracked run a model was submitted from: ``driftline.submitted.MODEL`` =
the submission id."""


class SubmissionRefusedError(Exception):
    """A submission the service will not queue: ``code`` (not_found, no_data, empty) and why."""

    def __init__(self, code: Literal["not_found", "no_data", "empty"], message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def status_of(job: Job, created: bool = True, failure: Reason | None = None) -> SubmissionStatus:
    """The status of a submission job."""
    assert job.submission is not None
    found = job.submission
    return SubmissionStatus(
        submission_id=job.run_id, model=job.model, status=job.status, dataset=job.dataset,
        sha256=found.artifact.sha256, submitted_by=found.submitted_by,
        submitted_from_run=found.from_run, created=created, failure=failure,
    )  # fmt: skip


def submission_key(model: str, sha256: str) -> str:
    """Object key of a submitted file: ``submissions/{model}/{sha256}`` (content-addressed)."""
    return f"submissions/{model}/{sha256}"


@dataclass(frozen=True)
class SubmissionIntake:
    """Accepts submitted files: checks the model and run exist, stores, queues."""

    units: Units
    store: ArtifactStore

    async def submit(
        self, model: str, data: bytes, actor: str, from_run: str | None = None
    ) -> SubmissionStatus:
        """Queue the scoring of ``data`` as a candidate of ``model``; its status."""
        if not data:
            raise SubmissionRefusedError("empty", "the submitted file is empty")
        spec, latest = await self._target(model, from_run)
        sha256 = hashlib.sha256(data).hexdigest()
        stored = await self.store.put_bytes(
            submission_key(model, sha256), data, content_type=MEDIA_TYPE
        )
        artifact = ArtifactRef(uri=stored.uri, sha256=stored.sha256, media_type=MEDIA_TYPE,
                               size_bytes=stored.size_bytes)  # fmt: skip
        new = submission_job(spec, latest, Submission(artifact, actor, from_run))
        async with self.units() as uow:
            job, created = await PostgresSubmissionJobs(uow.session).queue(new)
            if from_run is not None:  # the run links to what it submitted, in one commit
                tag = {f"{SUBMITTED_TAG}.{model}": job.run_id}
                await PostgresTrackingRepository(uow.session).set_tags(from_run, tag)
        log.info("submission queued" if created else "submission already queued",
                 model=model, run_id=job.run_id, actor=actor, from_run=from_run)  # fmt: skip
        return status_of(job, created)

    async def _target(self, model: str, from_run: str | None) -> tuple[Any, DatasetRef]:
        async with self.units() as uow:
            repo = PostgresTrainingRepository(uow.session)
            spec = await repo.spec(model)
            latest = None if spec is None else await repo.latest_version(spec.dataset)
            tracked = from_run is None or await PostgresTrackingRepository(uow.session).exists(
                from_run
            )
        if spec is None:
            raise SubmissionRefusedError("not_found", f"no spec for model {model!r}: apply one")
        if latest is None:
            message = f"no accepted version of {spec.dataset!r} to score the model on yet"
            raise SubmissionRefusedError("no_data", message)
        if not tracked:
            raise SubmissionRefusedError("not_found", f"tracked run {from_run!r} not found")
        return spec, latest

    async def status(self, submission_id: str) -> SubmissionStatus:
        """Where a submission stands; ``SubmissionRefusedError(not_found)`` when unknown."""
        async with self.units() as uow:
            job = await PostgresSubmissionJobs(uow.session).job(submission_id)
            run = await PostgresTrainingRepository(uow.session).run(submission_id)
        if job is None or job.submission is None:
            raise SubmissionRefusedError("not_found", f"submission {submission_id!r} not found")
        return status_of(job, failure=run.failure if run else None)
