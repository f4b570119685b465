"""A submission job's run: fetch the submitted file (sha256-verified) and score it confined."""

from __future__ import annotations

from driftline.runtime.errors import is_transient
from driftline.runtime.storage import ArtifactStore
from driftline.runtime.storage.errors import StorageError
from driftline.training.core import Job
from driftline.training.pool import TrainingPool
from driftline.training.run_io import ChampionInput, RunOutput, Sources
from driftline.training.settings import TrainingSection

UNAVAILABLE = "submission_unavailable"


async def score_submitted(
    store: ArtifactStore,
    pool: TrainingPool,
    job: Job,
    files: Sources,
    champion: ChampionInput,
    settings: TrainingSection,
) -> RunOutput:
    """The submitted model re-scored on the spec's holdout of ``files`` in a training process;
    a file gone or altered since it was accepted is a typed failure (an outage is raised)."""
    assert job.submission is not None
    artifact = job.submission.artifact
    try:
        model_bytes = await store.get_bytes(artifact.uri, sha256=artifact.sha256)
    except StorageError as exc:
        if is_transient(exc):
            raise
        return RunOutput(failure=(UNAVAILABLE, f"{type(exc).__name__}: {exc}", None))
    return await pool.score(
        files, job.dataset.format, job.spec, settings.max_rows, settings.timeout_s, model_bytes,
        champion=champion,
    )  # fmt: skip
