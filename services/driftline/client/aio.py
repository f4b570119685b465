"""The asynchronous client: the same calls as ``Client``, awaited."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import httpx

from driftline.client import calls, submitting
from driftline.client.calls import Call
from driftline.client.connection import Discovery, answer, unreachable
from driftline.client.frames import dataframe, tracked
from driftline.client.models import FeedbackAccepted, Predictions
from driftline.training.records import RunRecord, SubmissionStatus
from driftline.training.tracking.models import (
    ArtifactEntry,
    ComparedRuns,
    EndStatus,
    Experiment,
    MetricPoint,
    ParamValue,
    TrackedRun,
)

if TYPE_CHECKING:
    import pandas as pd


class AsyncRun:
    """A tracked run being logged (``async with``): FINISHED, KILLED when cancelled, or FAILED."""

    def __init__(self, send: Callable[[Call], Awaitable[Any]], record: TrackedRun) -> None:
        self._send = send
        self.record = record

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.record.run_id

    async def log_params(self, params: Mapping[str, ParamValue]) -> None:
        """Record parameters."""
        await self._send(calls.log(self.run_id, params=dict(params)))

    async def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        """Record metric values at ``step``."""
        await self._send(calls.log(self.run_id, metrics=dict(metrics), step=step))

    async def log_metric(self, key: str, value: float, step: int = 0) -> None:
        """Record one metric value at ``step``."""
        await self.log_metrics({key: value}, step=step)

    async def set_tags(self, tags: Mapping[str, str]) -> None:
        """Set tags (a tag set again takes the new value)."""
        await self._send(calls.log(self.run_id, tags=dict(tags)))

    async def log_artifact(self, path: str | Path, name: str | None = None) -> ArtifactEntry:
        """Upload a file under the run."""
        stored = await self._send(calls.log_artifact(self.run_id, Path(path), name))
        return ArtifactEntry.model_validate(stored)

    async def start_run(self, name: str | None = None, **tags: str) -> AsyncRun:
        """A nested run under this one."""
        call = calls.start_run(self.record.experiment, name=name, dataset=self.record.dataset,
                               parent_run_id=self.run_id, tags=tags)  # fmt: skip
        return AsyncRun(self._send, tracked(await self._send(call)))

    async def end(self, status: EndStatus = "FINISHED") -> TrackedRun:
        """End the run; its final record."""
        self.record = tracked(await self._send(calls.end_run(self.run_id, status)))
        return self.record

    async def submit_model(self, estimator: Any, *, model: str) -> SubmissionStatus:
        """Submit the fitted ``estimator`` as a candidate of ``model``, from this run."""
        content = await asyncio.to_thread(submitting.model_file, estimator)
        answer_ = await self._send(calls.submit_model(model, content, self.run_id))
        return submitting.status(answer_)

    async def __aenter__(self) -> AsyncRun:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        interrupted = kind in (KeyboardInterrupt, asyncio.CancelledError)
        failed: Literal["KILLED", "FAILED"] = "KILLED" if interrupted else "FAILED"
        await self.end("FINISHED" if kind is None else failed)


class AsyncClient:
    """``Client``'s calls for asyncio code (same discovery of URLs and tokens)."""

    def __init__(
        self, *, token: str | None = None, urls: Mapping[str, str] | None = None,
        home: Path | None = None, timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:  # fmt: skip
        self._where = Discovery(token, urls, home)
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def send(self, call: Call) -> Any:
        """Make one call; its decoded answer, or ``ClientError``."""
        try:
            response = await self._http.request(**self._where.request(call))
        except httpx.HTTPError as exc:
            raise unreachable(call, exc) from exc
        return answer(call, response)

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def start_run(
        self, experiment: str, *, name: str | None = None, dataset: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> AsyncRun:  # fmt: skip
        """Start a tracked run (``async with await client.start_run(...) as run``)."""
        call = calls.start_run(experiment, name=name, dataset=dataset, tags=dict(tags or {}))
        return AsyncRun(self.send, tracked(await self.send(call)))

    async def tracked_runs(
        self, experiment: str | None = None, limit: int = 100
    ) -> list[TrackedRun]:
        """Tracked runs, newest first."""
        return [tracked(r) for r in await self.send(calls.tracked_runs(experiment, limit))]

    async def tracked_run(self, run_id: str) -> TrackedRun:
        """One tracked run."""
        return tracked(await self.send(calls.tracked_run(run_id)))

    async def metric_history(self, run_id: str, key: str) -> list[MetricPoint]:
        """A tracked metric's curve."""
        found = await self.send(calls.metric_history(run_id, key))
        return [MetricPoint.model_validate(p) for p in found]

    async def experiments(self) -> list[Experiment]:
        """Every experiment."""
        return [Experiment.model_validate(e) for e in await self.send(calls.experiments())]

    async def run(self, run_id: str) -> RunRecord:
        """One of the training service's own runs."""
        return RunRecord.model_validate(await self.send(calls.training_run(run_id)))

    async def models(self) -> list[dict[str, Any]]:
        """Registered models."""
        return await self.send(calls.models())

    async def versions(self, model: str) -> list[dict[str, Any]]:
        """A model's versions, oldest first."""
        return await self.send(calls.versions(model))

    async def version(self, model: str, number: int) -> dict[str, Any]:
        """One version: lineage, metrics, gates."""
        return await self.send(calls.version(model, number))

    async def drift_report(self, model: str) -> dict[str, Any]:
        """The model's latest drift report."""
        return await self.send(calls.drift_report(model))

    async def runs(self, model: str | None = None, limit: int = 100) -> list[RunRecord]:
        """The training service's own runs, newest first."""
        found = await self.send(calls.training_runs(model, limit))
        return [RunRecord.model_validate(r) for r in found]

    async def compare(self, run_ids: list[str]) -> ComparedRuns:
        """Runs of either kind side by side."""
        return ComparedRuns.model_validate(await self.send(calls.compare(run_ids)))

    async def predict(
        self, model: str, rows: list[dict[str, Any]], routing_key: str | None = None
    ) -> Predictions:
        """Score rows."""
        answer_ = await self.send(calls.predict(model, rows, routing_key))
        return Predictions.model_validate(answer_)

    async def send_feedback(self, model: str, labels: Mapping[str, Any]) -> FeedbackAccepted:
        """True labels by request id."""
        answer_ = await self.send(calls.feedback(model, dict(labels)))
        return FeedbackAccepted.model_validate(answer_)

    async def load_dataset(self, version: str) -> pd.DataFrame:
        """``name@3`` as a DataFrame, from the canonical accepted copy."""
        return dataframe(await self.send(calls.dataset(version)))

    async def submit_model(
        self, estimator: Any, *, model: str, run_id: str | None = None
    ) -> SubmissionStatus:
        """Submit a fitted estimator trained elsewhere as a candidate of ``model``."""
        content = await asyncio.to_thread(submitting.model_file, estimator)
        return submitting.status(await self.send(calls.submit_model(model, content, run_id)))

    async def submit_model_file(
        self, path: str | Path, *, model: str, run_id: str | None = None
    ) -> SubmissionStatus:
        """Submit a model file (skops or a native LightGBM / XGBoost archive) as it is."""
        content = await asyncio.to_thread(submitting.read_model_file, path)
        return submitting.status(await self.send(calls.submit_model(model, content, run_id)))

    async def submission(self, submission_id: str) -> SubmissionStatus:
        """Where a submission stands."""
        return submitting.status(await self.send(calls.submission(submission_id)))

    async def wait_for_submission(
        self, submission_id: str, timeout_s: float = 300
    ) -> SubmissionStatus:
        """The submission once scored (succeeded) or refused (failed)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not (found := await self.submission(submission_id)).done:
            if asyncio.get_running_loop().time() >= deadline:
                raise submitting.timed_out(found, timeout_s)
            await asyncio.sleep(submitting.WAIT_INTERVAL_S)
        return found
