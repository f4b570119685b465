"""OpenLineage for a validation run: START, then COMPLETE (accepted) or FAIL (rejected)."""

from __future__ import annotations

from driftline.runtime.openlineage import LineageEmitter, run_id_for
from driftline_contracts.events.data import DataRejected, DataValidated
from driftline_contracts.values import DatasetRef


def _dataset(ref: DatasetRef) -> tuple[str, str]:
    bucket_and_key = ref.uri.split("://", 1)[-1]
    scheme = ref.uri.split("://", 1)[0]
    bucket = bucket_and_key.split("/", 1)[0]
    return f"{scheme}://{bucket}", bucket_and_key.split("/", 1)[-1]


class ValidationRun:
    """One validation of one arrival, as OpenLineage sees it (job ``validation.<dataset>``)."""

    def __init__(self, emitter: LineageEmitter | None, dataset: DatasetRef, cause_id: str):
        self._emitter = emitter
        self._dataset = dataset
        self._job = f"validation.{dataset.name}"
        self._run_id = run_id_for(f"validation:{cause_id}")

    async def started(self) -> None:
        """START with the arriving dataset as input."""
        if self._emitter is not None:
            await self._emitter.emit(
                "START", job=self._job, run_id=self._run_id, inputs=[_dataset(self._dataset)]
            )

    async def finished(self, outcome: DataValidated | DataRejected | None) -> None:
        """COMPLETE when accepted (or already judged), FAIL with the reasons when rejected."""
        if self._emitter is None:
            return
        if isinstance(outcome, DataRejected):
            reasons = "; ".join(f"{r.code}: {r.message}" for r in outcome.reasons[:20])
            await self._emitter.emit(
                "FAIL",
                job=self._job,
                run_id=self._run_id,
                inputs=[_dataset(self._dataset)],
                error=reasons,
            )
            return
        await self._emitter.emit(
            "COMPLETE", job=self._job, run_id=self._run_id, inputs=[_dataset(self._dataset)]
        )
