"""The scripted journey behind the console's browser test, on the session's local stack.

Real: the upload (ingest), its validation and profile, the registry's versions and gates,
monitoring's windows and drift, the audit service's lineage. Stood in for, each event signed
with the emitting service's key and copied to the audit stream as its outbox relay would:
training's runs and deployment's promotion, canary and served predictions (a real canary
would need trained artifacts, a serving process and minutes of traffic).

The data: Seattle's daily weather from the ``vega_datasets`` wheel; ``weather`` is a category.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import io
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pandas as pd
import pytest

from driftline.stack.info import StackInfo
from driftline_contracts import topics
from driftline_contracts.codec import decode, encode
from driftline_contracts.envelope import Envelope, new_envelope
from driftline_contracts.events import (
    CanaryRolledBack,
    CanaryStarted,
    CanaryStepAdvanced,
    Event,
    ModelPromoted,
    ModelTrained,
    PredictionsLogged,
)
from driftline_contracts.events.monitoring import PredictionRow
from driftline_contracts.examples import example
from driftline_contracts.origin import SIGNED_BY
from driftline_contracts.publish import build_producer
from driftline_contracts.values import DatasetRef, MetricResult, ModelRef, Reason
from tests.integration.kafka_helpers import header, read_all
from tests.signing import stack_signer

UID = uuid.uuid4().hex[:6]
MODEL, DATASET = f"console-temp-{UID}", f"console-weather-{UID}"
FEATURES = ["precipitation", "temp_min", "wind", "weather"]
WINDOW = 40
SPEC: dict[str, Any] = {
    "model": MODEL, "dataset": DATASET, "target": "temp_max", "task": "regression",
    "features": FEATURES, "approval": "manual",
    "trainer": {"estimator": "sklearn.linear_model.LinearRegression"},
    "gates": [{"metric": "rmse", "max": 10.0}],
    "drift": {"window_size": WINDOW},
}  # fmt: skip
CANARY = f"canary-{UID}"
Check = Callable[[], Awaitable[Any]]


def seattle() -> pd.DataFrame:
    """The wheel's Seattle weather with each day's month and year."""
    data = importlib.resources.files("vega_datasets") / "_data" / "seattle-weather.csv"
    frame = pd.read_csv(io.BytesIO(data.read_bytes()))
    dates = pd.to_datetime(frame.pop("date"))
    return frame.assign(month=dates.dt.month, year=dates.dt.year)


def winter(frame: pd.DataFrame) -> pd.DataFrame:
    """Cold months of 2012-2013: the training data (mostly rain)."""
    return frame[frame["month"].isin([11, 12, 1, 2]) & (frame["year"] <= 2013)]


def summer(frame: pd.DataFrame) -> pd.DataFrame:
    """Summer 2014: what production serves (warm, mostly sun): numeric and categorical drift."""
    return frame[frame["month"].isin([6, 7, 8]) & (frame["year"] == 2014)]


class Story:
    """The stack's HTTP APIs and event stream, as the journey drives them."""

    def __init__(self, info: StackInfo, urls: dict[str, str], tokens: dict[str, str]) -> None:
        self.info, self.url = info, urls
        self.http = httpx.AsyncClient(timeout=30)
        self.tokens = tokens
        self.validated: Envelope | None = None  # the upload's DataValidated

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def emit(self, event: Event, actor: str | None = None, audit: bool = True,
                   cause: Envelope | None = None) -> None:  # fmt: skip
        """Publish ``event`` as its service would (caused by ``cause``), on its topic and (the
        relay's copy, same envelope) on the audit stream."""
        service = SIGNED_BY.get(event.ce_type) or event.producer
        envelope = new_envelope(event, source=f"driftline/{service}", cause=cause,
                                actor=actor or f"service:{service}")  # fmt: skip
        kafka = encode(event, envelope)
        headers = list(kafka.headers)
        signer = stack_signer(self.info, service) if service else None
        if signer is not None:
            headers += signer.signature(kafka.headers, kafka.value)
        producer: Any = build_producer(self.info.kafka_bootstrap)
        await producer.start()
        try:
            for topic in [kafka.topic, topics.AUDIT] if audit else [kafka.topic]:
                await producer.send_and_wait(topic, kafka.value, key=kafka.key, headers=headers)
        finally:
            await producer.stop()

    async def until(self, what: str, check: Check, timeout_s: float = 60) -> Any:
        """Poll ``check`` until it returns something truthy."""
        deadline = time.monotonic() + timeout_s
        while True:
            if found := await check():
                return found
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout_s} s waiting until {what}")
            await asyncio.sleep(0.3)

    async def get(self, service: str, path: str) -> Any:
        answer = await self.http.get(self.url[service] + path, headers=self.auth("viewer"))
        return answer.json() if answer.status_code == 200 else None

    async def upload_and_validate(self, frame: pd.DataFrame) -> DatasetRef:
        """Upload the CSV through ingest; the dataset version validation accepted."""
        answer = await self.http.post(
            f"{self.url['ingest']}/v1/datasets/{DATASET}",
            content=frame[[*FEATURES, "temp_max"]].to_csv(index=False).encode(),
            headers={"Content-Type": "text/csv", **self.auth("publisher")},
        )
        assert answer.status_code == 201, answer.text

        [(self.validated, event), *_] = await self.until(
            "the upload is validated", lambda: self.events(topics.DATA_VALIDATED, DATASET)
        )
        return event.dataset

    async def events(self, topic: str, subject: str) -> list[tuple[Envelope, Any]]:
        """(envelope, event) of every record of ``topic`` about ``subject``."""
        records = await read_all(self.info.kafka_bootstrap, topic,
                                 lambda r: header(r, "ce_subject") == subject)  # fmt: skip
        return [decode(r.headers, r.value) for r in records]

    async def apply_spec(self) -> None:
        answer = await self.http.post(
            f"{self.url['registry']}/v1/specs", json=SPEC, headers=self.auth("publisher")
        )
        assert answer.status_code == 201, answer.text

    async def train(self, version: int, dataset: DatasetRef, rmse: float, depth: int) -> None:
        """Training's run (as user:itest); the registry registers it as ``version``."""
        run = example(ModelTrained).model_copy(update={
            "model": MODEL, "run_id": f"run-{UID}-{version}", "dataset": dataset,
            "params": {"fit_intercept": True, "max_depth": depth},
            "metrics": {"rmse": rmse, "mae": round(rmse * 0.8, 3)},
            "trainer": "user:itest", "champion_comparison": None,
        })  # fmt: skip
        await self.emit(run, actor="user:itest", cause=self.validated)  # a run on new data
        path = f"/v1/models/{MODEL}/versions/{version}"
        await self.until(f"v{version} is registered", lambda: self.get("registry", path))

    async def approve(self, version: int) -> None:
        """An approver's decision through the registry's API (the setup's, not the page's)."""
        answer = await self.http.post(
            f"{self.url['registry']}/v1/models/{MODEL}/versions/{version}/approve",
            json={"comment": "setup"}, headers=self.auth("approver"),
        )  # fmt: skip
        assert answer.status_code == 200, answer.text

    async def promote_first(self) -> None:
        """Deployment's answer to v1's approval: promoted directly (the first version)."""
        approvals = await self.events(topics.MODEL_APPROVED, MODEL)
        [approved] = [e for e, event in approvals if event.model.version == 1]
        artifact = example(ModelPromoted).artifact
        await self.emit(ModelPromoted(model=ModelRef(name=MODEL, version=1), previous=None,
                                      via="direct", artifact=artifact), cause=approved)  # fmt: skip

    async def serve(self, frame: pd.DataFrame) -> None:
        """The champion's predictions of ``frame``'s rows, one batch per window."""
        start = datetime.now(UTC) - timedelta(minutes=10)
        records = frame[FEATURES].to_dict(orient="records")
        for first in range(0, len(records) - WINDOW + 1, WINDOW):
            rows = [PredictionRow(
                request_id=f"req-{UID}-{first + i}", time=start + timedelta(seconds=first + i),
                variant="champion", features=features, prediction=20.0, latency_ms=3.0,
            ) for i, features in enumerate(records[first : first + WINDOW])]  # fmt: skip
            window = {"start": rows[0].time, "end": rows[-1].time}
            await self.emit(PredictionsLogged(
                model=ModelRef(name=MODEL, version=1), batch_id=f"batch-{UID}-{first}",
                window=window, count=len(rows), rows=rows,
            ), audit=False)  # fmt: skip

    def canary_started(self) -> CanaryStarted:
        started = example(CanaryStarted)
        return started.model_copy(update={
            "model": ModelRef(name=MODEL, version=2), "champion": ModelRef(name=MODEL, version=1),
            "canary_id": CANARY, "steps": started.steps[:3],
        })  # fmt: skip

    def canary_advanced(self) -> CanaryStepAdvanced:
        return example(CanaryStepAdvanced).model_copy(update={
            "model": ModelRef(name=MODEL, version=2), "champion": ModelRef(name=MODEL, version=1),
            "canary_id": CANARY, "step": 1, "traffic_percent": 25.0,
            "previous_traffic_percent": 5.0, "results": [_metric("rmse", 3.9, 4.0, True)],
        })  # fmt: skip

    def canary_rolled_back(self) -> CanaryRolledBack:
        return example(CanaryRolledBack).model_copy(update={
            "model": ModelRef(name=MODEL, version=2), "champion": ModelRef(name=MODEL, version=1),
            "canary_id": CANARY, "step": 1, "traffic_percent": 25.0, "verdict": "fail",
            "results": [_metric("rmse", 7.25, 4.0, False), _metric("mae", 3.1, 3.2, True)],
            "reasons": [Reason(code="rmse_higher", message="canary rmse 7.25 vs 4.0")],
        })  # fmt: skip


def _metric(name: str, canary: float, champion: float, passed: bool) -> MetricResult:
    return MetricResult(metric=name, canary=canary, champion=champion, p_value=None,
                        samples=400, passed=passed)  # fmt: skip
