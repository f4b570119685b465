"""The events and run records a job's outcome becomes."""

from __future__ import annotations

from typing import Any, Literal

from driftline.training.core import Job, is_retryable
from driftline.training.records import RunRecord
from driftline.training.run_io import RunOutput
from driftline_contracts.events.training import ModelTrained, TrainingFailed, TrainingStarted
from driftline_contracts.values import ArtifactRef, DatasetRef, Reason

TRAINER = "service:training"


def seed_of(job: Job) -> int:
    """The seed of the job's spec (the split's, also given to the estimator)."""
    return int(job.spec.get("split", {}).get("seed", 42))


def started(job: Job) -> TrainingStarted:
    """TrainingStarted for a claimed job."""
    return TrainingStarted(
        model=job.model,
        run_id=job.run_id,
        dataset=job.dataset,
        spec_hash=job.spec_hash,
        trigger=job.trigger,
        attempt=job.attempt,
    )


def failure_reason(code: str, message: str, field: str | None = None) -> Reason:
    """A Reason within the contract's limits."""
    text = message if len(message) <= 2000 else message[:1999] + "…"
    return Reason(code=code, message=text, field=field[:128] if field else None)


def failed(job: Job, reason: Reason) -> tuple[TrainingFailed, RunRecord]:
    """TrainingFailed and the failed run's record."""
    event = TrainingFailed(
        model=job.model,
        run_id=job.run_id,
        dataset=job.dataset,
        reason=reason,
        attempt=max(job.attempt, 1),
        retryable=is_retryable(reason.code),
    )
    return event, _record(job, "failed", failure=reason, lineage=submission_facts(job))


def window_facts(versions: list[DatasetRef], output: RunOutput) -> dict[str, Any]:
    """What the run's record keeps of its training window: the versions and row counts."""
    return {
        "datasets": [v.model_dump(mode="json", exclude_none=True) for v in versions],
        "window_rows": output.window_rows,
        "labelled_rows": output.labelled_rows,
    }


def submission_facts(job: Job) -> dict[str, Any]:
    """What a submission's run record keeps of where the model came from (none for a run)."""
    found = job.submission
    if found is None:
        return {}
    return {"submitted_by": found.submitted_by, "submitted_from_run": found.from_run,
            "submitted_artifact": found.artifact.model_dump(mode="json")}  # fmt: skip


def trained(
    job: Job,
    output: RunOutput,
    artifacts: dict[str, ArtifactRef],
    lineage: dict[str, Any],
    versions: list[DatasetRef] | None = None,
) -> tuple[ModelTrained, RunRecord]:
    """ModelTrained and the successful run's record (``versions``: the training window)."""
    event = ModelTrained(
        model=job.model,
        run_id=job.run_id,
        artifact=artifacts["model.skops"],
        dataset=job.dataset,
        spec_hash=job.spec_hash,
        code_version=lineage["code_version"],
        seed=seed_of(job),
        params=output.params,
        metrics=output.metrics,
        packages=lineage["packages"],
        train_rows=output.train_rows,
        holdout_rows=output.holdout_rows,
        duration_s=output.duration_s,
        trainer=job.submission.submitted_by if job.submission else TRAINER,
        champion_comparison=output.champion_comparison,
        datasets=versions or [job.dataset],
        labelled_rows=output.labelled_rows,
        signature=output.signature,
        submitted_from_run=job.submission.from_run if job.submission else None,
    )
    record = _record(
        job,
        "succeeded",
        params=output.params,
        metrics=output.metrics,
        artifacts=artifacts,
        lineage={**lineage, **submission_facts(job)},
        train_rows=output.train_rows,
        holdout_rows=output.holdout_rows,
        duration_s=output.duration_s,
    )
    return event, record


def _record(job: Job, status: Literal["succeeded", "failed"], **facts: Any) -> RunRecord:
    return RunRecord(
        run_id=job.run_id,
        model=job.model,
        status=status,
        trigger=job.trigger,
        attempt=max(job.attempt, 1),
        dataset=job.dataset,
        spec_hash=job.spec_hash,
        seed=seed_of(job),
        **facts,
    )
