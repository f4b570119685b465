"""Training decisions: which jobs an event asks for and whether a retrain is worth running.

Everything here is pure (no I/O): handlers load, this module decides.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from driftline.runtime.trainer_policy import TrainerNotAllowedError, TrainerPolicy
from driftline_contracts.envelope import Envelope
from driftline_contracts.events.training import RetrainSkipped, Trigger
from driftline_contracts.modelspec import ModelSpec, TrainerSpec
from driftline_contracts.values import ArtifactRef, DatasetRef, Reason

JobStatus = Literal["queued", "running", "succeeded", "failed"]
JobKind = Literal["train", "submission"]
RETRYABLE_CODES = frozenset({"timeout", "resource_limit"})


class InvalidSpecError(Exception):
    """A ModelSpecApplied whose spec document is not a valid ModelSpec."""


class TrainerRefusedError(InvalidSpecError):
    """A spec whose estimator, plug-in or params the operator's trainer policy refuses."""


@dataclass(frozen=True)
class SpecRecord:
    """The spec of one model as training keeps it."""

    model: str
    dataset: str
    spec_hash: str
    spec: dict[str, Any]


@dataclass(frozen=True)
class Submission:
    """A model trained elsewhere, uploaded to be scored: its stored bytes and who sent it."""

    artifact: ArtifactRef
    submitted_by: str
    from_run: str | None = None
    """The tracked run it was submitted from, if the submitter named one."""


@dataclass(frozen=True)
class NewJob:
    """A job to enqueue: unique on (model, dataset sha256, spec hash, labelled_until) and, for
    a submission, the submitted bytes' sha256."""

    model: str
    run_id: str
    dataset: DatasetRef
    spec_hash: str
    spec: dict[str, Any]
    trigger: Trigger
    cause: Envelope | None
    """The event that asked for the job; None for a submission (it has no causing event)."""
    labelled_until: int
    """Labelled production rows up to this label sequence number join the data (0: none)."""
    submission: Submission | None = field(default=None, kw_only=True)
    """Set for a submission job: score these bytes instead of training."""

    @property
    def kind(self) -> JobKind:
        """``submission`` when the job scores a submitted model, else ``train``."""
        return "train" if self.submission is None else "submission"

    @property
    def correlation_id(self) -> str | None:
        """The lifecycle run of a job without a cause (a submission): its own run id."""
        return self.run_id if self.cause is None else None


@dataclass(frozen=True)
class Labelled:
    """Labelled production rows of a model: how many, and the newest label's sequence number."""

    rows: int = 0
    until: int = 0


@dataclass(frozen=True)
class LabelledRow:
    """A labelled production row: its features, or the prediction log object holding them."""

    request_id: str
    label: Any
    features: dict[str, Any] | None = None
    source: ArtifactRef | None = None


@dataclass(frozen=True)
class LastRun:
    """What the model's latest successful run trained on."""

    dataset_sha256: str
    labelled_until: int


@dataclass(frozen=True)
class Job(NewJob):
    """A job as stored, with its progress."""

    id: int
    status: JobStatus
    attempt: int
    claimed_at: datetime | None


def spec_record(model: str, spec_hash: str, document: dict[str, Any]) -> SpecRecord:
    """The validated spec of ``model``; ``InvalidSpec`` when the document is not a ModelSpec."""
    try:
        spec = ModelSpec.model_validate(document)
    except ValidationError as exc:
        raise InvalidSpecError(f"spec of {model!r} is not a valid ModelSpec: {exc}") from exc
    if spec.model != model:
        raise InvalidSpecError(f"spec names model {spec.model!r}, the event {model!r}")
    return SpecRecord(model, spec.dataset, spec_hash, spec.model_dump(mode="json"))


def allowed_trainer(spec: SpecRecord, policy: TrainerPolicy) -> SpecRecord:
    """``spec`` if ``policy`` allows its trainer; ``TrainerRefusedError`` naming the field if
    not (only allowed estimator modules are imported to check the params)."""
    try:
        policy.check(TrainerSpec.model_validate(spec.spec["trainer"]))
    except TrainerNotAllowedError as exc:
        raise TrainerRefusedError(f"spec of {spec.model!r} refused: {exc.message}") from exc
    return spec


def new_run_id() -> str:
    """A fresh run id; stored with the job so a resumed run keeps it."""
    return f"run-{uuid.uuid4().hex[:16]}"


def job_for(
    spec: SpecRecord,
    dataset: DatasetRef,
    trigger: Trigger,
    cause: Envelope,
    labelled_until: int = 0,
) -> NewJob:
    """A job training ``spec`` on ``dataset`` (plus labelled rows up to ``labelled_until``)."""
    return NewJob(
        spec.model,
        new_run_id(),
        dataset,
        spec.spec_hash,
        spec.spec,
        trigger,
        cause,
        labelled_until,
    )


def submission_job(
    spec: SpecRecord, dataset: DatasetRef, submission: Submission
) -> NewJob:
    """A job scoring a submitted model on ``dataset``'s holdout under ``spec``."""
    return NewJob(spec.model, new_run_id(), dataset, spec.spec_hash, spec.spec, "manual", None,
                  0, submission=submission)  # fmt: skip


def jobs_for_validated(
    specs: Iterable[SpecRecord], dataset: DatasetRef, cause: Envelope
) -> list[NewJob]:
    """A job per spec training on this accepted dataset version (none without a version)."""
    if dataset.version is None:
        return []
    trained_on = [s for s in specs if s.dataset == dataset.name]
    return [job_for(s, dataset, "data_validated", cause) for s in trained_on]


def retrain(
    spec: SpecRecord,
    latest: DatasetRef | None,
    last: LastRun | None,
    labelled: Labelled,
    cause: Envelope,
) -> NewJob | RetrainSkipped:
    """A drift retrain on the newest accepted data plus every labelled production row, or a
    skip when the model's latest run already had that data and no label arrived since."""
    if latest is None:
        return skipped(spec.model, "no_new_data", f"no accepted version of {spec.dataset!r}")
    same_data = last is not None and latest.sha256 == last.dataset_sha256
    if same_data and last is not None and labelled.until <= last.labelled_until:
        message = (
            f"version {latest.version} of {latest.name!r} is what the latest run used"
            " and no production labels arrived since"
        )
        return skipped(spec.model, "no_new_data", message, latest)
    return job_for(spec, latest, "drift_detected", cause, labelled.until)


def skipped(
    model: str, code: str, message: str, latest: DatasetRef | None = None
) -> RetrainSkipped:
    """The RetrainSkipped of a drift retrain not done."""
    return RetrainSkipped(
        model=model,
        trigger="drift_detected",
        reason=Reason(code=code, message=message),
        latest_dataset=latest,
    )


def already_queued(job: NewJob, status: JobStatus | None) -> RetrainSkipped:
    """The skip of a drift retrain whose data and spec already have a job."""
    active = status in ("queued", "running")
    message = f"a run on version {job.dataset.version} with this spec is {status or 'recorded'}"
    code = "run_in_progress" if active else "no_new_data"
    return skipped(job.model, code, message, job.dataset)


def is_retryable(code: str) -> bool:
    """Whether a failure with this code may succeed if tried again."""
    return code in RETRYABLE_CODES


def lease_lost(attempt: int, max_attempts: int) -> bool:
    """Whether a job was claimed more often than allowed (its workers keep dying)."""
    return attempt > max_attempts
