"""Micro-batching: concurrent requests predicted together answer exactly as they would alone;
a lone request is not held back; batches stay within their bounds; one bad request fails
alone; the spec option is off by default and does not retrain."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from driftline.deployment.deps import DeploymentDeps
from driftline.deployment.models.predictor import Predicted, predict_columns
from driftline.deployment.serving.answer import serve
from driftline.deployment.serving.micro_batcher import MicroBatcher, Outcome
from driftline.deployment.serving.row_batch import RowBatch
from driftline.training.retrain_policy import training_hash
from driftline_contracts.modelspec import MicroBatching, ModelSpec, spec_hash
from tests.unit.deployment.batching import (
    FEATURES,
    Recorded,
    Seen,
    bodies,
    fitted,
    requests,
    serving_deps,
)

ROWS = "driftline_deployment_micro_batch_rows"
VERSION_1 = {"model": "m", "version": "1"}


async def concurrently(batcher: MicroBatcher, batches: list[RowBatch]) -> list[Any]:
    """Every request submitted a few loop turns after the one before it."""

    async def one(index: int, batch: RowBatch) -> Predicted:
        for _ in range(index % 3):
            await asyncio.sleep(0)
        return (await batcher.submit(batch))[0]

    return await asyncio.gather(*(one(i, b) for i, b in enumerate(batches)), return_exceptions=True)


def assert_same_answers(together: list[Predicted], alone: list[Predicted]) -> None:
    """Labels identical; probabilities within the documented tolerance (relative 1e-12:
    BLAS may sum in another order for another number of rows, a last-bit difference)."""
    for mine, own in zip(together, alone, strict=True):
        assert mine.predictions == own.predictions
        assert mine.errors == own.errors
        for p, q in zip(mine.probabilities, own.probabilities, strict=True):
            assert p is not None
            assert q is not None
            assert p.keys() == q.keys()
            assert [p[k] for k in p] == pytest.approx([q[k] for k in p], rel=1e-12, abs=1e-300)


async def test_concurrent_requests_get_exactly_their_answers_alone() -> None:
    model = fitted()
    run = Recorded(model)
    batcher = MicroBatcher(run, max_batch_rows=64, max_wait_ms=50)
    batches = requests(40, rows=2)
    together = await concurrently(batcher, batches)
    alone = [predict_columns(model, b.matrix()) for b in batches]  # type: ignore[arg-type]
    assert_same_answers(together, alone)
    assert len(run.calls) < len(batches)
    assert max(run.calls) > 2


async def test_a_lone_request_is_predicted_at_once() -> None:
    run = Recorded(fitted())
    seen = Seen()
    batcher = MicroBatcher(run, max_batch_rows=64, max_wait_ms=1000, observer=seen)
    await batcher.submit(requests(1, rows=3)[0])
    await batcher.submit(requests(1)[0])
    assert run.calls == [3, 1]
    assert seen.reasons == {"idle": 2}  # on the next loop turn, not after max_wait
    assert all(wait < 100 for wait in seen.waits_ms)


async def test_requests_that_arrive_together_share_one_predict() -> None:
    run = Recorded(fitted())
    batcher = MicroBatcher(run, max_batch_rows=64, max_wait_ms=1000)
    results = await asyncio.gather(*(batcher.submit(b) for b in requests(5, rows=2)))
    assert [len(p) for p, _ in results] == [2] * 5
    assert run.calls == [10]


async def test_requests_behind_a_slow_batch_wait_at_most_max_wait() -> None:
    model = fitted()
    calls: list[int] = []

    async def slow_first(batch: RowBatch) -> Outcome:
        calls.append(len(batch))
        await asyncio.sleep(0.5 if len(calls) == 1 else 0)
        return predict_columns(model, batch.matrix()), 0.0  # type: ignore[arg-type]

    seen = Seen()
    batcher = MicroBatcher(slow_first, max_batch_rows=64, max_wait_ms=20, observer=seen)
    first = asyncio.ensure_future(batcher.submit(requests(1)[0]))
    await asyncio.sleep(0.01)  # the first batch is predicting now
    second = await asyncio.wait_for(batcher.submit(requests(1, seed=2)[0]), 0.4)
    assert len(second[0]) == 1
    assert not first.done()  # answered beside the slow batch, not after it
    assert seen.reasons["max_wait"] == 1
    assert 15 <= seen.waits_ms[1] < 400
    await first


async def test_batches_hold_at_most_max_batch_rows() -> None:
    run = Recorded(fitted())
    seen = Seen()
    batcher = MicroBatcher(run, max_batch_rows=8, max_wait_ms=50, observer=seen)
    results = await concurrently(batcher, requests(10, rows=3))
    assert all(len(r) == 3 for r in results)
    assert sum(run.calls) == 30
    assert max(run.calls) <= 8
    assert seen.rows == run.calls


async def test_a_request_larger_than_max_batch_rows_runs_alone() -> None:
    run = Recorded(fitted())
    batcher = MicroBatcher(run, max_batch_rows=4, max_wait_ms=50)
    results = await concurrently(batcher, [*requests(3), requests(1, rows=10)[0]])
    assert [len(r) for r in results] == [1, 1, 1, 10]
    assert 10 in run.calls
    assert all(c <= 4 for c in run.calls if c != 10)


async def test_one_failing_request_does_not_fail_the_others() -> None:
    run = Recorded(fitted(), fail_on=99.0)
    batcher = MicroBatcher(run, max_batch_rows=64, max_wait_ms=50)
    batches = requests(6)
    batches[2] = RowBatch.of([{"a": 99.0, "b": 0.0, "c": 0.0}], FEATURES)
    results = await concurrently(batcher, batches)
    assert isinstance(results[2], RuntimeError)
    assert all(isinstance(r, Predicted) and len(r) == 1 for i, r in enumerate(results) if i != 2)
    assert max(run.calls) > 1  # the batch was tried, then each request alone


SPEC: dict[str, Any] = {
    "model": "churn",
    "dataset": "customers",
    "target": "churned",
    "task": "classification",
    "trainer": {"estimator": "sklearn.linear_model.LogisticRegression"},
}


def test_micro_batching_is_off_by_default() -> None:
    assert ModelSpec.model_validate(SPEC).serving.micro_batching.enabled is False


@pytest.mark.parametrize("runtime", ["sklearn", "onnx"])
def test_micro_batching_changes_neither_the_training_hash_nor_an_old_spec_hash(
    runtime: str,
) -> None:
    before = ModelSpec.model_validate({**SPEC, "serving": {"runtime": runtime}})
    on = {"runtime": runtime, "micro_batching": {"enabled": True, "max_wait_ms": 1}}
    after = ModelSpec.model_validate({**SPEC, "serving": on})
    assert training_hash(before.model_dump(mode="json")) == training_hash(
        after.model_dump(mode="json")
    )
    old_document = {**before.model_dump(mode="json"), "serving": {"runtime": runtime}}
    assert training_hash(old_document) == training_hash(before.model_dump(mode="json"))
    assert spec_hash(before) != spec_hash(after)  # the spec itself did change


def test_an_onnx_spec_keeps_the_spec_hash_it_had_before_micro_batching() -> None:
    import hashlib
    import json

    spec = ModelSpec.model_validate({**SPEC, "serving": {"runtime": "onnx"}})
    document = spec.model_dump(mode="json")
    document["serving"] = {"runtime": "onnx"}
    del document["window"]
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    assert spec_hash(spec) == hashlib.sha256(canonical.encode()).hexdigest()


@pytest.mark.parametrize(
    "bad", [{"max_batch_rows": 0}, {"max_wait_ms": -1}, {"max_wait_ms": 1e9}, {"wait": 1}]
)
def test_unbounded_or_unknown_batching_options_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="micro_batching"):
        ModelSpec.model_validate({**SPEC, "serving": {"micro_batching": bad}})


async def served_answers(deps: DeploymentDeps, rows: list[list[dict[str, Any]]]) -> list[Any]:
    served = await asyncio.gather(*(serve(None, deps, "m", r, None) for r in rows))  # type: ignore[arg-type]
    return [s.predicted for s in served]


async def test_serving_with_micro_batching_answers_as_without(tmp_path: Path) -> None:
    rows = bodies(24)
    registry = CollectorRegistry()
    option = MicroBatching(enabled=True, max_batch_rows=16, max_wait_ms=5)
    on = serving_deps(tmp_path, option, registry)
    off = serving_deps(tmp_path, None)
    assert_same_answers(await served_answers(on, rows), await served_answers(off, rows))
    calls = registry.get_sample_value(f"{ROWS}_count", VERSION_1) or 0
    assert registry.get_sample_value(f"{ROWS}_sum", VERSION_1) == sum(map(len, rows))
    assert 1 <= calls < len(rows)  # requests served together
    assert registry.get_sample_value(f"{ROWS}_bucket", {**VERSION_1, "le": "16.0"}) == calls
    assert len(on.batchers) == 1
    assert len(off.batchers) == 0  # off: every request predicted on its own, as before
