"""Job rows and ``Job`` objects: one conversion, used by every query on the jobs table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from driftline.training.core import Job, NewJob, Submission
from driftline_contracts.envelope import Envelope
from driftline_contracts.values import ArtifactRef, DatasetRef


def submission_of(document: dict[str, Any] | None) -> Submission | None:
    """The submission a job row keeps, if it is a submission job."""
    if document is None:
        return None
    artifact = ArtifactRef.model_validate(document["artifact"])
    return Submission(artifact, document["submitted_by"], document.get("from_run"))


def submission_document(job: NewJob) -> dict[str, Any] | None:
    """The JSON a submission job keeps of its submission (None for a training job)."""
    found = job.submission
    if found is None:
        return None
    return {"artifact": found.artifact.model_dump(mode="json"),
            "submitted_by": found.submitted_by, "from_run": found.from_run}  # fmt: skip


def job_from_row(row: Row) -> Job:
    """A stored job."""
    return Job(
        model=row.model,
        run_id=row.run_id,
        dataset=DatasetRef.model_validate(row.dataset),
        spec_hash=row.spec_hash,
        spec=row.spec,
        trigger=row.trigger,
        cause=None if row.cause is None else Envelope.model_validate_json(row.cause),
        labelled_until=row.labelled_until,
        submission=submission_of(row.submission),
        id=row.id,
        status=row.status,
        attempt=row.attempt,
        claimed_at=row.claimed_at,
    )
