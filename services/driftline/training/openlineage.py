"""OpenLineage for a training run: START when a worker starts it, then COMPLETE with the model
as output, or FAIL with the reason. Job ``training.<model>``; the run id is derived from the
Driftline run id, so a resumed run (a second START) and its outcome report the same run."""

from __future__ import annotations

from driftline.runtime.openlineage import LineageEmitter, run_id_for
from driftline.training.core import Job
from driftline_contracts.events.training import ModelTrained, TrainingFailed


def location(uri: str) -> tuple[str, str]:
    """(namespace, name) of an object: ``s3://bucket`` and the key, as validation names data."""
    scheme, _, rest = uri.partition("://")
    bucket, _, key = rest.partition("/")
    return f"{scheme}://{bucket}", key


def model_location(artifact_uri: str, model: str) -> tuple[str, str]:
    """The model as a dataset: the artifact's bucket and ``models/<model>`` (no run, no file)."""
    namespace, key = location(artifact_uri)
    prefix = key.split(f"models/{model}/", 1)[0]
    return namespace, f"{prefix}models/{model}"


class TrainingRun:
    """One training run as OpenLineage sees it; nothing is sent without an emitter."""

    def __init__(self, emitter: LineageEmitter | None, job: Job) -> None:
        self._emitter = emitter
        self._job = f"training.{job.model}"
        self._model = job.model
        self._run_id = run_id_for(f"training:{job.run_id}")
        self._inputs = [location(job.dataset.uri)]

    async def started(self) -> None:
        """START with the dataset version as input."""
        if self._emitter is not None:
            await self._emitter.emit(
                "START", job=self._job, run_id=self._run_id, inputs=self._inputs
            )

    async def finished(self, outcome: ModelTrained | TrainingFailed) -> None:
        """COMPLETE with the model as output, or FAIL with the reason."""
        if self._emitter is None:
            return
        if isinstance(outcome, TrainingFailed):
            error = f"{outcome.reason.code}: {outcome.reason.message}"
            await self._emitter.emit(
                "FAIL", job=self._job, run_id=self._run_id, inputs=self._inputs, error=error
            )
            return
        output = model_location(outcome.artifact.uri, self._model)
        await self._emitter.emit(
            "COMPLETE", job=self._job, run_id=self._run_id, inputs=self._inputs, outputs=[output]
        )
