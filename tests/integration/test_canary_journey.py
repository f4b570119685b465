"""Canary journeys on the real local stack: each step's traffic split, promotion, rollback, and
a deployment process restarted mid-canary.

Traffic split tolerance: rows without a routing key go to the canary independently with
probability ``p`` (the step's share), so over ``n`` rows served at one step the canary's
observed share is binomial; the tests accept ``|observed - p| <= 4 * sqrt(p * (1 - p) / n)``
(four standard errors: a false alarm about once in 15,000 steps) and need ``n >= 150`` rows
per measured step. A round (one predict request) counts towards a step only when the
rollout was on that step both before and after it, so rows served around an advance are left
out rather than attributed to the wrong step.

The judge runs every 0.3 s with ``JUDGE_ALPHA`` 0.001 (three judged steps of a good model
must not fail by chance) and latency allowed to grow 50x (two cores shared with other test
processes make latency noise, not signal); a bad model still fails on accuracy and
prediction distribution by a wide margin.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from aiokafka import ConsumerRecord
from sklearn.datasets import load_breast_cancer
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sqlalchemy import select

from driftline.deployment.app import definition
from driftline.deployment.rollout.metrics import active_rollouts
from driftline.deployment.settings import DeploymentSettings
from driftline.deployment.tables import canaries
from driftline.runtime.http import build_http_app
from driftline.runtime.service import ServiceRuntime
from driftline.stack.info import StackInfo
from driftline_contracts import topics
from driftline_contracts.codec import decode
from tests.integration.deployment_steps import apply_spec, deploy, predict_with_feedback, until
from tests.integration.kafka_helpers import environment, header, read_all
from tests.tokens import stack_headers

pytestmark = pytest.mark.integration

UID = uuid.uuid4().hex[:8]
STEPS = [25.0, 50.0, 100.0]
CANARY = {"steps": STEPS, "min_requests": 120, "min_duration_s": 0}
ROUND = 100
MIN_ROWS = 150
FAST = {
    "DRIFTLINE_DEPLOYMENT__JUDGE_INTERVAL_S": "0.3",
    "DRIFTLINE_DEPLOYMENT__LOG_FLUSH_INTERVAL_S": "0.5",
    "DRIFTLINE_DEPLOYMENT__JUDGE_ALPHA": "0.001",
    "DRIFTLINE_DEPLOYMENT__LATENCY_ALLOWED_INCREASE": "50",
}
Rows = list[dict[str, float]]


@dataclass
class Service:
    """The deployment service running in-process, and an HTTP client on its app."""

    runtime: ServiceRuntime
    http: httpx.AsyncClient

    @classmethod
    async def start(cls, stack: StackInfo) -> Service:
        """A fresh process-equivalent: new runtime (engine, consumers, jobs, cache) and app."""
        with environment({**stack.env(), **FAST}):
            settings = DeploymentSettings()
        runtime = ServiceRuntime(definition(), settings)
        await runtime.start()
        transport = httpx.ASGITransport(app=build_http_app(runtime))
        app = stack_headers(stack, "publisher")  # the application scores and sends labels
        return cls(
            runtime,
            httpx.AsyncClient(transport=transport, base_url="http://deployment", headers=app),
        )

    async def stop(self) -> None:
        """Stop everything the runtime runs (consumers, judge, batcher, relay, engine)."""
        await self.http.aclose()
        await self.runtime.stop()


@pytest.fixture(scope="module")
async def service(local_stack: StackInfo) -> AsyncIterator[list[Service]]:
    """One running service in a list, so a test may replace it with a restarted one."""
    running = [await Service.start(local_stack)]
    yield running
    await running[0].stop()


@pytest.fixture(scope="module")
def data() -> tuple[Rows, list[int], dict[str, Any]]:
    """Breast-cancer rows and labels; two good models and a deliberately bad one."""
    frame, target = load_breast_cancer(return_X_y=True, as_frame=True)
    labels = [int(v) for v in target]
    models = {
        "good": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "also_good": make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=1000)),
        "bad": DummyClassifier(strategy="most_frequent"),
    }
    fitted = {name: model.fit(frame, labels) for name, model in models.items()}
    return frame.to_dict(orient="records"), labels, fitted


@dataclass(frozen=True)
class State:
    """A rollout as PostgreSQL has it."""

    status: str
    step: int
    step_started_at: datetime


async def _state(runtime: ServiceRuntime, canary_id: str) -> State:
    async with runtime.units() as uow:
        row = (
            await uow.session.execute(select(canaries).where(canaries.c.canary_id == canary_id))
        ).one()
    return State(row.status, row.step, row.step_started_at)


async def _approve(
    stack: StackInfo, runtime: ServiceRuntime, name: str, version: int, model: Any
) -> Any:
    """Approve ``model`` as ``name`` v``version``; the event it caused (promotion or canary)."""
    sent = await deploy(stack, runtime, name, version, model)
    (found,) = await _events(
        stack, [topics.CANARY_STARTED, topics.MODEL_PROMOTED], causation=sent, at_least=1
    )
    return found


async def _events(
    stack: StackInfo,
    wanted: list[str],
    *,
    subject: str | None = None,
    causation: str | None = None,
    at_least: int = 0,
) -> list[Any]:
    """Distinct events on ``wanted`` topics about ``subject`` or caused by ``causation``."""

    def match(record: ConsumerRecord) -> bool:
        if causation is not None:
            return header(record, "ce_causationid") == causation
        return header(record, "ce_subject") == subject

    async def found() -> list[Any]:
        records = [r for t in wanted for r in await read_all(stack.kafka_bootstrap, t, match)]
        # At-least-once: a relay stopped mid-batch publishes it again; consumers dedupe by id.
        unique = {env.id: event for env, event in (decode(r.headers, r.value) for r in records)}
        return list(unique.values())

    return (
        await until(lambda: _enough(found, at_least), timeout_s=40) if at_least else (await found())
    )


async def _enough(found: Any, at_least: int) -> list[Any] | None:
    events = await found()
    return events if len(events) >= at_least else None


async def _round(http: httpx.AsyncClient, name: str, data: Any, start: int) -> list[str]:
    """One predict request of ``ROUND`` rows (no routing key) plus their true labels back."""
    rows, labels, _ = data
    batch = [(start + i) % len(rows) for i in range(ROUND)]
    served = await predict_with_feedback(http, name, rows, labels, batch)
    return [p["variant"] for p in served]


async def _drive(
    service: Service, name: str, canary_id: str, data: Any, stop_at_step: int | None = None
) -> tuple[dict[int, list[str]], State]:
    """Serve rounds until the rollout ends (or reaches ``stop_at_step``); variants per step."""
    by_step: dict[int, list[str]] = defaultdict(list)
    start = 0
    async with asyncio.timeout(60):
        while True:
            before = await _state(service.runtime, canary_id)
            if before.status != "active" or before.step == stop_at_step:
                return by_step, before
            variants = await _round(service.http, name, data, start)
            start += ROUND
            if await _state(service.runtime, canary_id) == before:
                by_step[before.step].extend(variants)


def _assert_split(variants: list[str], percent: float) -> None:
    n, p = len(variants), percent / 100.0
    observed = variants.count("canary") / n
    tolerance = 4 * math.sqrt(p * (1 - p) / n)
    assert n >= MIN_ROWS, f"only {n} rows measured at {percent}%"
    assert abs(observed - p) <= tolerance, f"{observed:.3f} served by the canary at {percent}%"


async def test_good_version_passes_each_step_and_a_worse_one_rolls_back(
    local_stack: StackInfo, service: list[Service], data: Any
) -> None:
    """v1 promoted directly; v2 passes 25% → 50% → promoted, split as configured at each
    step; v3 (always predicts the majority class) is rolled back naming accuracy."""
    running, (_, _, models) = service[0], data
    name = f"journey-{UID}"
    await apply_spec(local_stack, name, CANARY, running.runtime)
    first = await _approve(local_stack, running.runtime, name, 1, models["good"])
    assert (first.model.version, first.via) == (1, "direct")

    started = await _approve(local_stack, running.runtime, name, 2, models["also_good"])
    assert [s.traffic_percent for s in started.steps] == STEPS
    # what driftline_canary_step / _traffic_percent on /metrics are refreshed from
    (rollout,) = [r for r in await active_rollouts(running.runtime.engine) if r.model == name]
    assert (rollout.version, rollout.step, rollout.traffic_percent) == (2, 1, STEPS[0])
    # Routing is served from the cache, kept true by NOTIFY on every step change below.
    assert running.runtime.deps.routing.live
    by_step, end = await _drive(running, name, started.canary_id, data)
    assert end.status == "promoted"
    assert name not in {r.model for r in await active_rollouts(running.runtime.engine)}
    for index, percent in enumerate(STEPS[:-1]):
        _assert_split(by_step[index], percent)
    (advanced,) = await _events(
        local_stack, [topics.CANARY_STEP_ADVANCED], subject=name, at_least=1
    )
    assert (advanced.step, advanced.traffic_percent, advanced.verdict) == (1, 50.0, "pass")
    promoted = await _events(local_stack, [topics.MODEL_PROMOTED], subject=name, at_least=2)
    (via_canary,) = [p for p in promoted if p.via == "canary"]
    assert (via_canary.model.version, via_canary.previous.version) == (2, 1)
    assert via_canary.canary_id == started.canary_id
    assert {r.metric for r in via_canary.results if r.passed} >= {"accuracy", "error_rate"}

    worse = await _approve(local_stack, running.runtime, name, 3, models["bad"])
    assert worse.champion.version == 2
    by_step, end = await _drive(running, name, worse.canary_id, data)
    assert end.status == "rolled_back"
    _assert_split(by_step[0], STEPS[0])
    # The rollback is committed before the relay publishes it: wait for the event.
    (rollback,) = await _events(local_stack, [topics.CANARY_ROLLED_BACK], subject=name, at_least=1)
    assert (rollback.canary_id, rollback.verdict, rollback.step) == (worse.canary_id, "fail", 0)
    assert "accuracy_lower" in {r.code for r in rollback.reasons}
    assert {r.metric for r in rollback.results if r.passed is False} >= {"accuracy"}
    after = await _round(running.http, name, data, 0)
    assert set(after) == {"champion"}

    # An approver rolls production back to v1 (then v9, which never loaded, is refused).
    path, reason = f"/v1/models/{name}/versions/1/promote", {"reason": "v2 misroutes refunds"}
    refused = await running.http.post(
        path, json=reason, headers=stack_headers(local_stack, "publisher")
    )
    assert refused.status_code == 403, refused.text
    back = await running.http.post(
        path, json=reason, headers=stack_headers(local_stack, "approver")
    )
    assert back.status_code == 200, back.text
    assert (back.json()["version"], back.json()["previous"]) == (1, 2)
    missing = await running.http.post(f"/v1/models/{name}/versions/9/promote", json=reason,
                                       headers=stack_headers(local_stack, "approver"))  # fmt: skip
    assert missing.status_code == 404, missing.text
    promoted = await _events(local_stack, [topics.MODEL_PROMOTED], subject=name, at_least=3)
    assert [(p.model.version, p.via, p.reason) for p in promoted][-1] == (
        1,
        "manual",
        "v2 misroutes refunds",
    )
    # The roll back is caused by v1's approval, as v1's first (direct) promotion was: the
    # lineage of a person's promotion reaches the run and the data.
    records = await read_all(local_stack.kafka_bootstrap, topics.MODEL_PROMOTED,
                             lambda r: header(r, "ce_subject") == name)  # fmt: skip
    sent = {env.id: (env, event) for env, event in (decode(r.headers, r.value) for r in records)}
    (approval_of_v1,) = {env.causationid for env, event in sent.values() if event.via == "direct"}
    assert approval_of_v1 is not None
    assert sent[back.json()["event_id"]][0].causationid == approval_of_v1


async def test_restart_mid_canary_resumes_the_same_step(
    local_stack: StackInfo, service: list[Service], data: Any
) -> None:
    """A fresh process on the same database serves step 2's split, same rollout, same clock."""
    running, (_, _, models) = service[0], data
    name = f"restarted-{UID}"
    await apply_spec(local_stack, name, CANARY, running.runtime)
    await _approve(local_stack, running.runtime, name, 1, models["good"])
    started = await _approve(local_stack, running.runtime, name, 2, models["also_good"])
    _, at_step = await _drive(running, name, started.canary_id, data, stop_at_step=1)
    assert (at_step.status, at_step.step) == ("active", 1)

    await running.stop()
    service[0] = restarted = await Service.start(local_stack)
    assert await _state(restarted.runtime, started.canary_id) == at_step
    by_step, end = await _drive(restarted, name, started.canary_id, data)
    assert end.status == "promoted"
    assert set(by_step) == {1}, "the restarted process served no other step"
    _assert_split(by_step[1], STEPS[1])

    starts = await _events(local_stack, [topics.CANARY_STARTED], subject=name)
    assert [s.canary_id for s in starts] == [started.canary_id]
    advances = await _events(local_stack, [topics.CANARY_STEP_ADVANCED], subject=name)
    assert [(a.canary_id, a.step) for a in advances] == [(started.canary_id, 1)]
    promoted = await _events(local_stack, [topics.MODEL_PROMOTED], subject=name, at_least=2)
    assert [(p.via, p.canary_id) for p in promoted][-1] == ("canary", started.canary_id)
