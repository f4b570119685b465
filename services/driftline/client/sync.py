"""The synchronous client: ``Client().start_run(...)`` as a context manager, browsing,
scoring, feedback and datasets."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

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


class Run:
    """A tracked run being logged: ends FINISHED on a clean exit, KILLED on Ctrl-C, else FAILED.

    Use it as a context manager (``with client.start_run(...) as run:``); the exception still
    propagates. ``record`` is the run's latest ``TrackedRun``.
    """

    def __init__(self, send: Callable[[Call], Any], record: TrackedRun) -> None:
        self._send = send
        self.record = record

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.record.run_id

    def log_params(self, params: Mapping[str, ParamValue]) -> None:
        """Record parameters, each once (the same value again is fine, another is refused)."""
        self._send(calls.log(self.run_id, params=dict(params)))

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        """Record metric values at ``step`` (a curve when logged at several steps)."""
        self._send(calls.log(self.run_id, metrics=dict(metrics), step=step))

    def log_metric(self, key: str, value: float, step: int = 0) -> None:
        """Record one metric value at ``step``."""
        self.log_metrics({key: value}, step=step)

    def set_tags(self, tags: Mapping[str, str]) -> None:
        """Set tags (a tag set again takes the new value)."""
        self._send(calls.log(self.run_id, tags=dict(tags)))

    def log_artifact(self, path: str | Path, name: str | None = None) -> ArtifactEntry:
        """Upload a file to the artifact store under the run; its stored entry (with sha256).

        ``name``: its path inside the run's artifacts (default: the file's name).
        """
        return ArtifactEntry.model_validate(
            self._send(calls.log_artifact(self.run_id, Path(path), name))
        )

    def start_run(self, name: str | None = None, **tags: str) -> Run:
        """A nested run under this one, in the same experiment and on the same dataset."""
        call = calls.start_run(self.record.experiment, name=name, dataset=self.record.dataset,
                               parent_run_id=self.run_id, tags=tags)  # fmt: skip
        return Run(self._send, tracked(self._send(call)))

    def end(self, status: EndStatus = "FINISHED") -> TrackedRun:
        """End the run with ``status``; its final record."""
        self.record = tracked(self._send(calls.end_run(self.run_id, status)))
        return self.record

    def submit_model(self, estimator: Any, *, model: str) -> SubmissionStatus:
        """Submit the fitted ``estimator`` as a candidate of ``model``, from this run.

        Written without pickle: skops, or LightGBM / XGBoost's own format. Follow its scoring
        with ``client.wait_for_submission(status.submission_id)``.
        """
        content = submitting.model_file(estimator)
        return submitting.status(self._send(calls.submit_model(model, content, self.run_id)))

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.end(
            "FINISHED" if kind is None else "KILLED" if kind is KeyboardInterrupt else "FAILED"
        )


class Client:
    """Driftline from Python: tracking, runs, models, scoring, feedback and datasets.

    ``token``: else ``$DRIFTLINE_TOKEN``, else the local stack's token of the role a call
    needs. ``urls``: base URL per service (``training``, ``registry``, ``deployment``,
    ``monitoring``), else ``$DRIFTLINE_<SERVICE>_URL``, else the running local stack.
    ``transport``: an ``httpx`` transport (tests pass ``httpx.MockTransport``). Nothing
    connects until the first call; ``with Client() as client:`` closes the connections.
    """

    def __init__(
        self, *, token: str | None = None, urls: Mapping[str, str] | None = None,
        home: Path | None = None, timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:  # fmt: skip
        self._where = Discovery(token, urls, home)
        self._http = httpx.Client(timeout=timeout, transport=transport)

    def send(self, call: Call) -> Any:
        """Make one call; its decoded answer, or ``ClientError``.

        ``call`` is a ``driftline.client.calls.Call``; the typed methods are built on it.
        """
        try:
            response = self._http.request(**self._where.request(call))
        except httpx.HTTPError as exc:
            raise unreachable(call, exc) from exc
        return answer(call, response)

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def start_run(
        self, experiment: str, *, name: str | None = None, dataset: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Run:  # fmt: skip
        """Start a tracked run (``with client.start_run(experiment="x") as run: ...``).

        The experiment is created when missing. ``dataset``: an accepted version as
        ``name@version`` (``ValueError`` when malformed, 404 when unknown). ``tags``: to start with.
        """
        call = calls.start_run(experiment, name=name, dataset=dataset, tags=dict(tags or {}))
        return Run(self.send, tracked(self.send(call)))

    def tracked_runs(self, experiment: str | None = None, limit: int = 100) -> list[TrackedRun]:
        """Tracked runs, newest first (of one ``experiment``, or all)."""
        return [tracked(r) for r in self.send(calls.tracked_runs(experiment, limit))]

    def tracked_run(self, run_id: str) -> TrackedRun:
        """One tracked run."""
        return tracked(self.send(calls.tracked_run(run_id)))

    def metric_history(self, run_id: str, key: str) -> list[MetricPoint]:
        """A tracked metric's curve: every point, by step."""
        return [MetricPoint.model_validate(p) for p in self.send(calls.metric_history(run_id, key))]

    def experiments(self) -> list[Experiment]:
        """Every experiment."""
        return [Experiment.model_validate(e) for e in self.send(calls.experiments())]

    def runs(self, model: str | None = None, limit: int = 100) -> list[RunRecord]:
        """The training service's own runs, newest first (of one ``model``, or all)."""
        return [RunRecord.model_validate(r) for r in self.send(calls.training_runs(model, limit))]

    def run(self, run_id: str) -> RunRecord:
        """One of the training service's own runs."""
        return RunRecord.model_validate(self.send(calls.training_run(run_id)))

    def compare(self, run_ids: list[str]) -> ComparedRuns:
        """Runs of either kind (training or tracked) side by side, metrics and params by name."""
        return ComparedRuns.model_validate(self.send(calls.compare(run_ids)))

    def models(self) -> list[dict[str, Any]]:
        """Registered models."""
        return self.send(calls.models())

    def versions(self, model: str) -> list[dict[str, Any]]:
        """A model's versions, oldest first."""
        return self.send(calls.versions(model))

    def version(self, model: str, number: int) -> dict[str, Any]:
        """One version: lineage, metrics, gates."""
        return self.send(calls.version(model, number))

    def predict(
        self, model: str, rows: list[dict[str, Any]], routing_key: str | None = None
    ) -> Predictions:
        """Score rows; each prediction carries the request id feedback refers to.

        ``rows``: one dict of feature values per row. ``routing_key``: the same key keeps to
        the same variant (champion or canary) during a canary.
        """
        return Predictions.model_validate(self.send(calls.predict(model, rows, routing_key)))

    def send_feedback(self, model: str, labels: Mapping[str, Any]) -> FeedbackAccepted:
        """Send true labels for earlier predictions: ``{request_id: label}``."""
        return FeedbackAccepted.model_validate(self.send(calls.feedback(model, dict(labels))))

    def drift_report(self, model: str) -> dict[str, Any]:
        """The model's latest drift report."""
        return self.send(calls.drift_report(model))

    def load_dataset(self, version: str) -> pd.DataFrame:
        """``name@3`` as a pandas DataFrame, from the canonical copy validation accepted.

        Needs a token even though it reads (401 without); ``ValueError`` when ``version`` is
        not ``name@version``.
        """
        return dataframe(self.send(calls.dataset(version)))

    def submit_model(
        self, estimator: Any, *, model: str, run_id: str | None = None
    ) -> SubmissionStatus:
        """Submit a fitted estimator trained elsewhere as a candidate of ``model``.

        ``run_id``: the tracked run it came from, if any (``Run.submit_model`` fills it in).
        """
        content = submitting.model_file(estimator)
        return submitting.status(self.send(calls.submit_model(model, content, run_id)))

    def submit_model_file(
        self, path: str | Path, *, model: str, run_id: str | None = None
    ) -> SubmissionStatus:
        """Submit a model file (skops or a native LightGBM / XGBoost archive) as it is."""
        content = submitting.read_model_file(path)
        return submitting.status(self.send(calls.submit_model(model, content, run_id)))

    def submission(self, submission_id: str) -> SubmissionStatus:
        """Where a submission stands; ``failure`` says why it was refused."""
        return submitting.status(self.send(calls.submission(submission_id)))

    def wait_for_submission(self, submission_id: str, timeout_s: float = 300) -> SubmissionStatus:
        """The submission once scored (succeeded) or refused (failed).

        Asks every second; ``SubmissionTimeoutError`` (a ``TimeoutError``) after ``timeout_s``.
        """
        return submitting.wait(lambda: self.submission(submission_id), timeout_s)
