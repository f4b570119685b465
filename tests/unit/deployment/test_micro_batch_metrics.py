"""What micro-batching did, on deployment's /metrics (rows and requests per predict call, each
request's wait, why each call ran), and a version's batcher dropped once it is no longer
routed or its option changed, its in-flight requests still answered."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from driftline.deployment.app import dependencies
from driftline.deployment.deps import DeploymentDeps
from driftline.deployment.errors import UnknownModelError
from driftline.deployment.models.predictor import predict_columns
from driftline.deployment.records import Canary, Served
from driftline.deployment.serving.answer import serve
from driftline.deployment.serving.batchers import Batchers, routed_keys
from driftline.deployment.serving.micro_batcher import BatcherClosedError, MicroBatcher, Outcome
from driftline.deployment.serving.row_batch import RowBatch
from driftline.deployment.settings import DeploymentSection
from driftline.runtime.metrics import Metrics
from driftline.runtime.storage.local import LocalArtifactStore
from driftline_contracts.modelspec import MicroBatching
from driftline_contracts.values import CanaryStep, ModelRef
from tests.unit.deployment.batching import (
    ARTIFACT,
    REF,
    Recorded,
    Routing,
    Seen,
    bodies,
    deployment,
    fitted,
    requests,
    serving_deps,
)

PREFIX = "driftline_deployment_micro_batch"
V1 = {"model": "m", "version": "1"}
ON = MicroBatching(enabled=True, max_batch_rows=4, max_wait_ms=50)


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(f"{PREFIX}_{name}", {**V1, **labels}) or 0.0


async def serve_all(deps: DeploymentDeps, rows: list[list[dict[str, Any]]]) -> list[Any]:
    return list(await asyncio.gather(*(serve(None, deps, "m", r, None) for r in rows)))  # type: ignore[arg-type]


async def test_metrics_endpoint_shows_full_batches_of_eight_concurrent_requests(
    tmp_path: Path,
) -> None:
    metrics = Metrics("deployment")  # what the service's /metrics renders
    runtime = SimpleNamespace(
        section=DeploymentSection(log_predictions=False),
        store=LocalArtifactStore(tmp_path),
        metrics=metrics,
    )
    deps = dataclasses.replace(dependencies(runtime), routing=Routing(ON))  # type: ignore[arg-type]
    deps.cache.put(REF, fitted())
    served = await serve_all(deps, bodies(8, rows=1))
    assert all(len(s) == 1 for s in served)
    text = metrics.render().decode()
    labels = 'model="m",version="1"'
    flushes = f'{PREFIX}_flushes_total{{model="m",reason="%s",version="1"}}'
    assert f"{flushes % 'max_rows'} 2.0" in text
    assert f"{flushes % 'idle'} 0.0" in text  # every reason shown from 0
    assert f'{PREFIX}_rows_bucket{{le="2.0",{labels}}} 0.0' in text
    assert f'{PREFIX}_rows_bucket{{le="4.0",{labels}}} 2.0' in text  # two calls of 4 rows
    assert f"{PREFIX}_rows_sum{{{labels}}} 8.0" in text
    assert f"{PREFIX}_requests_sum{{{labels}}} 8.0" in text
    assert f"{PREFIX}_wait_seconds_count{{{labels}}} 8.0" in text  # one wait per request


async def test_a_lone_request_is_an_idle_flush_not_held_for_max_wait(
    tmp_path: Path,
) -> None:
    registry = CollectorRegistry()
    deps = serving_deps(tmp_path, ON, registry)
    await serve_all(deps, bodies(1, rows=3))
    assert sample(registry, "flushes_total", reason="idle") == 1
    assert sample(registry, "rows_sum") == 3
    assert sample(registry, "requests_sum") == 1
    assert sample(registry, "wait_seconds_bucket", le="0.025") == 1  # max_wait_ms is 50


async def test_requests_behind_a_predicting_batch_run_when_it_ends() -> None:
    gate = asyncio.Event()
    model, seen = fitted(), Seen()

    async def gated(batch: RowBatch) -> Outcome:
        await gate.wait()
        return predict_columns(model, batch.matrix()), 0.0  # type: ignore[arg-type]

    batcher = MicroBatcher(gated, max_batch_rows=64, max_wait_ms=1000, observer=seen)
    first = asyncio.ensure_future(batcher.submit(requests(1)[0]))
    await asyncio.sleep(0.01)  # predicting now
    behind = [asyncio.ensure_future(batcher.submit(b)) for b in requests(2, seed=2)]
    await asyncio.sleep(0.01)
    gate.set()
    await asyncio.gather(first, *behind)
    assert seen.reasons == {"idle": 1, "batch_ended": 1}
    assert seen.requests == [1, 2]
    assert seen.waits_ms[1] >= 9  # waited for the first batch, then ran together


async def test_a_failed_batch_counts_each_request_retried_alone() -> None:
    seen = Seen()
    batcher = MicroBatcher(Recorded(fitted(), fail_on=99.0), max_wait_ms=50, observer=seen)
    bad = RowBatch.of([{"a": 99.0, "b": 0.0, "c": 0.0}], ("a", "b", "c"))
    results = await asyncio.gather(
        *(batcher.submit(b) for b in [*requests(2), bad]), return_exceptions=True
    )
    assert isinstance(results[2], RuntimeError)
    assert seen.reasons == {"idle": 1, "retried_alone": 3}
    assert seen.rows == [3, 1, 1, 1]
    assert len(seen.waits_ms) == 3  # each request's wait once, not again when retried


async def test_a_replaced_version_s_batcher_is_dropped_after_answering_its_request(
    tmp_path: Path,
) -> None:
    deps = serving_deps(tmp_path, ON)
    routing: Routing = deps.routing  # type: ignore[assignment]
    old = asyncio.ensure_future(serve(None, deps, "m", bodies(1)[0], None))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert not old.done()  # queued in version 1's batcher
    routing.deployment = deployment(ON, version=2)  # promoted: version 2 serves now
    new = asyncio.ensure_future(serve(None, deps, "m", bodies(1)[0], None))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert len(deps.batchers) == 1  # version 2's only
    assert deps.batchers.closing == 1  # version 1's, its batch predicting
    assert (await old).versions == [1]
    assert (await new).versions == [2]
    await deps.batchers.drained()
    assert deps.batchers.closing == 0
    assert len(deps.batchers) == 1


async def test_turning_micro_batching_off_drops_the_batcher(tmp_path: Path) -> None:
    deps = serving_deps(tmp_path, ON)
    routing: Routing = deps.routing  # type: ignore[assignment]
    await serve_all(deps, bodies(3))
    assert len(deps.batchers) == 1
    routing.deployment = deployment(None)
    served = await serve_all(deps, bodies(3))
    assert [len(s) for s in served] == [1, 2, 3]
    assert len(deps.batchers) == 0
    assert deps.batchers.closing == 0


async def test_a_model_no_longer_served_drops_its_batchers(tmp_path: Path) -> None:
    deps = serving_deps(tmp_path, ON)
    routing: Routing = deps.routing  # type: ignore[assignment]
    await serve_all(deps, bodies(2))
    routing.deployment = dataclasses.replace(routing.deployment, champion=None)
    with pytest.raises(UnknownModelError):
        await serve(None, deps, "m", bodies(1)[0], None)  # type: ignore[arg-type]
    assert len(deps.batchers) == 0


async def test_new_bounds_replace_the_batcher(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    deps = serving_deps(tmp_path, ON, registry)
    routing: Routing = deps.routing  # type: ignore[assignment]
    await serve_all(deps, bodies(8, rows=1))
    assert sample(registry, "rows_bucket", le="2.0") == 0  # calls of 4 rows
    routing.deployment = deployment(ON.model_copy(update={"max_batch_rows": 2}))
    await serve_all(deps, bodies(8, rows=1))
    assert len(deps.batchers) == 1
    assert sample(registry, "rows_bucket", le="2.0") == 4  # the new bounds' calls of 2
    assert sample(registry, "flushes_total", reason="max_rows") == 6


async def test_requests_still_reading_the_old_deployment_never_grow_the_map() -> None:
    batchers, run = Batchers(), Recorded(fitted())
    old, new = deployment(ON, version=1), deployment(ON, version=2)
    for current in [old, new] * 5:  # requests that read who serves before and after a change
        batcher = batchers.for_version(current, current.champion.model.version, lambda: run)  # type: ignore[union-attr]
        await batcher.submit(requests(1)[0])
        assert len(batchers) == 1
    await batchers.drained()
    assert batchers.closing == 0


async def test_a_closed_batcher_answers_its_predicting_batch_and_refuses_new_requests() -> None:
    gate, model = asyncio.Event(), fitted()

    async def gated(batch: RowBatch) -> Outcome:
        await gate.wait()
        return predict_columns(model, batch.matrix()), 0.0  # type: ignore[arg-type]

    batchers = Batchers()
    batcher = batchers.for_version(deployment(ON), 1, lambda: gated)
    in_flight = asyncio.ensure_future(batcher.submit(requests(1)[0]))
    await asyncio.sleep(0.01)
    batchers.retire_unrouted(deployment(None))
    assert (len(batchers), batchers.closing) == (0, 1)
    with pytest.raises(BatcherClosedError):
        await batcher.submit(requests(1)[0])
    gate.set()
    assert len((await in_flight)[0]) == 1
    await batchers.drained()
    assert batchers.closing == 0


def test_batchers_are_kept_for_the_champion_and_a_live_canary_only() -> None:
    step = CanaryStep(traffic_percent=10, min_duration_s=0, min_requests=0)
    now = datetime.now(UTC)
    challenger = Served(ModelRef(name="m", version=2), ARTIFACT)
    canary = Canary("c1", challenger, Served(REF, ARTIFACT), (step,), 0, now, now)
    live = dataclasses.replace(deployment(ON), canary=canary)
    shadow_step = step.model_copy(update={"shadow": True})
    shadow = dataclasses.replace(live, canary=dataclasses.replace(canary, steps=(shadow_step,)))
    assert routed_keys(live) == {(1, 4, 50.0), (2, 4, 50.0)}
    assert routed_keys(shadow) == {(1, 4, 50.0)}  # the mirrored challenger is not batched
    assert routed_keys(deployment(None)) == frozenset()
