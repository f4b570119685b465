"""Training journeys on the real local stack: accepted data in, a verified skops model out."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiokafka import ConsumerRecord
from fastapi import FastAPI
from sklearn.datasets import load_breast_cancer
from sqlalchemy import delete, func, select, update

from driftline.runtime.service import ServiceRuntime
from driftline.stack.info import StackInfo
from driftline.training import core
from driftline.training.adapters.artifacts import load_model
from driftline.training.adapters.postgres import PostgresTrainingRepository
from driftline.training.adapters.tables import jobs
from driftline.training.app import definition
from driftline.training.http import runs_router
from driftline.training.settings import TrainingSettings
from driftline_contracts import topics
from driftline_contracts.codec import decode, encode
from driftline_contracts.envelope import Envelope, new_envelope
from driftline_contracts.events.base import Event
from driftline_contracts.events.data import DataValidated
from driftline_contracts.events.deployment import ModelPromoted
from driftline_contracts.events.monitoring import DriftDetected
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.events.training import (
    ModelTrained,
    RetrainSkipped,
    TrainingFailed,
    TrainingStarted,
)
from driftline_contracts.examples import example
from driftline_contracts.modelspec import ModelSpec, spec_hash
from driftline_contracts.values import DatasetRef, ModelRef
from tests.integration.kafka_helpers import (
    end_offsets,
    environment,
    header,
    produce_raw,
    read_all,
    read_topic,
    until_consumed,
)
from tests.integration.s3_datasets import cancer_frame, put_frame, stack_minio
from tests.signing import publish_as, publish_signed, stack_signer

pytestmark = pytest.mark.integration

UID = uuid.uuid4().hex[:10]
DATASET = f"cancer-{UID}"
MODEL = f"cancer-clf-{UID}"
BAD_MODEL = f"cancer-bad-{UID}"
FENCE_MODEL = f"fence-{UID}"


@pytest.fixture(scope="module")
async def training(local_stack: StackInfo) -> AsyncIterator[ServiceRuntime]:
    """The training service (handlers and worker) running in-process on the stack."""
    with environment({**local_stack.env(), "DRIFTLINE_TRAINING__POLL_INTERVAL_S": "0.2"}):
        settings = TrainingSettings()
    runtime = ServiceRuntime(definition(), settings)
    await runtime.start()
    yield runtime
    await runtime.stop()


def _object_sha256(stack: StackInfo, uri: str) -> str:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    response = stack_minio(stack).get_object(bucket, key)
    try:
        return hashlib.sha256(response.read()).hexdigest()
    finally:
        response.close()
        response.release_conn()


async def _send(stack: StackInfo, event: Event) -> Envelope:
    # Specs and promotions only count signed by the registry / deployment: sign as they do.
    return await publish_signed(stack, event, source="cli/test", actor="user:test")


def _spec_event(
    model: str, target: str, trees: int = 50, *, dataset: str = DATASET, **changes: Any
) -> ModelSpecApplied:
    spec = ModelSpec(
        model=model,
        dataset=dataset,
        target=target,
        task="classification",
        trainer={
            "estimator": "sklearn.ensemble.RandomForestClassifier",
            "params": {"n_estimators": trees},
        },
        **changes,
    )
    return ModelSpecApplied(
        model=model,
        dataset=dataset,
        task="classification",
        target=target,
        trainer="sklearn.random_forest",
        spec_hash=spec_hash(spec),
        spec=spec.model_dump(mode="json"),
    )


def _caused_by(event_id: str) -> Callable[[ConsumerRecord], bool]:
    return lambda record: header(record, "ce_causationid") == event_id


def _about(model: str) -> Callable[[ConsumerRecord], bool]:
    return lambda record: header(record, "ce_subject") == model


async def _one(stack: StackInfo, topic: str, match: Callable[[ConsumerRecord], bool]) -> Event:
    (record,) = await read_topic(stack.kafka_bootstrap, topic, match, timeout_s=60)
    return decode(record.headers, record.value)[1]


async def _wait_for_spec(runtime: ServiceRuntime, model: str) -> None:
    async with asyncio.timeout(30):
        while True:
            async with runtime.units() as uow:
                if await PostgresTrainingRepository(uow.session).spec(model) is not None:
                    return
            await asyncio.sleep(0.2)


async def _jobs_of(runtime: ServiceRuntime, model: str) -> int:
    async with runtime.units() as uow:
        count = await uow.session.scalar(
            select(func.count()).select_from(jobs).where(jobs.c.model == model)
        )
    return int(count or 0)


async def _handled(stack: StackInfo, topic: str, consumer: str) -> None:
    """Wait until training's ``consumer`` has handled everything on ``topic`` so far."""
    ends = await end_offsets(stack.kafka_bootstrap, topic)
    async with asyncio.timeout(60):
        await until_consumed(stack.kafka_bootstrap, [f"driftline.{consumer}"], ends)


async def test_enqueue_keeps_working_past_the_prepared_statements_generic_plan(
    training: ServiceRuntime,
) -> None:
    """asyncpg prepares the insert once per connection; after five runs PostgreSQL may plan
    it generically, and a bound parameter in ON CONFLICT's WHERE then no longer matches the
    partial unique index (the chaos scenario dead-lettered DataValidated from the 13th on)."""
    spec = core.spec_record(FENCE_MODEL, "c" * 64, _spec_event(FENCE_MODEL, "target").spec)
    cause = Envelope(
        source="cli/test", type="test", subject=FENCE_MODEL, correlationid="c-2", actor="user:test"
    )
    async with training.units() as uow:  # one connection, one prepared statement
        repo = PostgresTrainingRepository(uow.session)
        for version in range(1, 13):
            ref = DatasetRef(name=f"plan-{UID}", version=version, uri="s3://driftline/p.csv",
                             sha256=f"{version:02x}" * 32, format="csv")  # fmt: skip
            assert await repo.enqueue(core.job_for(spec, ref, "manual", cause)), version
            assert not await repo.enqueue(core.job_for(spec, ref, "manual", cause)), version
        await uow.session.execute(delete(jobs).where(jobs.c.spec_hash == "c" * 64))


async def test_claims_are_fenced_and_expired_leases_reclaimed(
    training: ServiceRuntime,
) -> None:
    """PostgreSQL rules: one job per key, a reclaimed job fences out its crashed worker."""
    ref = DatasetRef(
        name=f"fence-{UID}", version=1, uri="s3://driftline/none.csv", sha256="e" * 64, format="csv"
    )
    spec = core.spec_record(FENCE_MODEL, "d" * 64, _spec_event(FENCE_MODEL, "target").spec)
    cause = Envelope(
        source="cli/test", type="test", subject=FENCE_MODEL, correlationid="c-1", actor="user:test"
    )
    async with training.units() as uow:
        repo = PostgresTrainingRepository(uow.session)
        assert await repo.enqueue(core.job_for(spec, ref, "manual", cause))
        assert not await repo.enqueue(core.job_for(spec, ref, "manual", cause))
        await uow.session.execute(
            update(jobs)
            .where(jobs.c.model == FENCE_MODEL)
            .values(status="running", attempt=1, claimed_at=func.now() - timedelta(seconds=30))
        )
    async with training.units() as uow:
        first = await PostgresTrainingRepository(uow.session).claim(lease_s=0)
    assert first is not None
    assert (first.model, first.attempt) == (FENCE_MODEL, 2)
    async with training.units() as uow:
        repo = PostgresTrainingRepository(uow.session)
        stale = replace(first, attempt=1)
        assert not await repo.renew(stale)
        assert not await repo.finish(stale, "succeeded")
        assert await repo.finish(first, "failed")
    assert await _jobs_of(training, FENCE_MODEL) == 1


async def test_training_journey(local_stack: StackInfo, training: ServiceRuntime) -> None:
    """Spec + accepted data → TrainingStarted, ModelTrained with a verified artifact; no repeats."""
    ref = await asyncio.to_thread(put_frame, local_stack, DATASET, cancer_frame())
    await _send(local_stack, _spec_event(MODEL, "target"))
    await _wait_for_spec(training, MODEL)
    validated = example(DataValidated).model_copy(update={"dataset": ref, "models": [MODEL]})
    sent = await _send(local_stack, validated)

    started = await _one(local_stack, topics.TRAINING_STARTED, _caused_by(sent.id))
    assert isinstance(started, TrainingStarted)
    assert (started.model, started.trigger, started.attempt) == (MODEL, "data_validated", 1)
    trained = await _one(local_stack, topics.MODEL_TRAINED, _caused_by(sent.id))
    assert isinstance(trained, ModelTrained)
    assert trained.run_id == started.run_id
    assert trained.metrics["accuracy"] > 0.9
    assert {"f1", "roc_auc", "log_loss"} <= trained.metrics.keys()
    assert trained.dataset.sha256 == ref.sha256
    assert trained.seed == 42
    assert trained.params["n_estimators"] == 50
    assert trained.champion_comparison is not None
    assert trained.champion_comparison.status == "no_champion"
    assert trained.artifact.uri.endswith(f"models/{MODEL}/{trained.run_id}/model.skops")
    sha = await asyncio.to_thread(_object_sha256, local_stack, trained.artifact.uri)
    assert sha == trained.artifact.sha256
    model = await load_model(training.store, trained.artifact)
    features = load_breast_cancer(as_frame=True).data.head(5)
    features.columns = [c.replace(" ", "_") for c in features.columns]
    assert len(model.predict(features)) == 5

    again = await _send(local_stack, validated)
    await _handled(local_stack, topics.DATA_VALIDATED, "training.on_data_validated")
    assert await _jobs_of(training, MODEL) == 1
    produced = await read_all(local_stack.kafka_bootstrap, topics.MODEL_TRAINED, _about(MODEL))
    assert len(produced) == 1
    assert not await read_all(
        local_stack.kafka_bootstrap, topics.TRAINING_STARTED, _caused_by(again.id)
    )
    await _check_http(training, trained)


async def _check_http(runtime: ServiceRuntime, trained: ModelTrained) -> None:
    """The runs API lists, shows and compares the recorded run."""
    app = FastAPI()
    app.include_router(runs_router(runtime))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://training") as client:
        listed = (await client.get("/v1/runs", params={"model": MODEL})).json()
        assert [r["run_id"] for r in listed] == [trained.run_id]
        shown = (await client.get(f"/v1/runs/{trained.run_id}")).json()
        assert shown["metrics"] == trained.metrics
        assert shown["artifacts"]["model.skops"]["sha256"] == trained.artifact.sha256
        assert {"metrics.json", "feature_importance.json", "confusion_matrix.json"} <= set(
            shown["artifacts"]
        )
        assert shown["lineage"]["packages"]["scikit-learn"]
        compared = await client.get("/v1/runs/compare", params={"ids": trained.run_id})
        assert compared.json()["metrics"]["accuracy"] == [trained.metrics["accuracy"]]
        assert (await client.get("/v1/runs/nope")).status_code == 404


async def test_drift_without_new_data_is_skipped(
    local_stack: StackInfo, training: ServiceRuntime
) -> None:
    """DriftDetected when the newest accepted data is what the model trained on → skip."""
    drift = example(DriftDetected).model_copy(update={"model": ModelRef(name=MODEL, version=1)})
    sent = await _send(local_stack, drift)
    skipped = await _one(local_stack, topics.RETRAIN_SKIPPED, _caused_by(sent.id))
    assert isinstance(skipped, RetrainSkipped)
    assert skipped.reason.code == "no_new_data"
    assert skipped.latest_dataset is not None
    assert skipped.latest_dataset.name == DATASET


async def test_missing_target_fails_with_bad_target(
    local_stack: StackInfo, training: ServiceRuntime
) -> None:
    """A spec whose target is absent trains on the latest data and fails with bad_target."""
    await _send(local_stack, _spec_event(BAD_MODEL, "nope"))
    failed = await _one(local_stack, topics.TRAINING_FAILED, _about(BAD_MODEL))
    assert isinstance(failed, TrainingFailed)
    assert failed.reason.code == "bad_target"
    assert failed.reason.field == "nope"
    assert failed.retryable is False


async def _spec_saved(runtime: ServiceRuntime, model: str, digest: str) -> None:
    async with asyncio.timeout(30):
        while True:
            async with runtime.units() as uow:
                saved = await PostgresTrainingRepository(uow.session).spec(model)
            if saved is not None and saved.spec_hash == digest:
                return
            await asyncio.sleep(0.2)


async def test_a_spec_change_only_other_services_read_does_not_retrain(
    local_stack: StackInfo, training: ServiceRuntime
) -> None:
    """A new drift policy (or canary, gates, expectations) is a new spec hash, not a run."""
    before = await _jobs_of(training, MODEL)
    changed = _spec_event(MODEL, "target", drift={"alpha": 0.01})
    await _send(local_stack, changed)
    await _spec_saved(training, MODEL, changed.spec_hash)
    assert await _jobs_of(training, MODEL) == before


async def test_re_applying_a_spec_whose_run_failed_retries_it(
    local_stack: StackInfo, training: ServiceRuntime
) -> None:
    """The same spec again after TrainingFailed: a second run (fails again, bad target)."""
    await _send(local_stack, _spec_event(BAD_MODEL, "nope"))
    failures = await read_topic(local_stack.kafka_bootstrap, topics.TRAINING_FAILED,
                                _about(BAD_MODEL), count=2, timeout_s=60)  # fmt: skip
    runs = [decode(r.headers, r.value)[1].run_id for r in failures]
    assert len(set(runs)) == 2
    assert await _jobs_of(training, BAD_MODEL) == 2


async def test_the_next_run_is_compared_with_the_promoted_champion(
    local_stack: StackInfo, training: ServiceRuntime
) -> None:
    """ModelPromoted of v1 → the next run scores v1 on its own holdout rows."""
    (first,) = await read_all(local_stack.kafka_bootstrap, topics.MODEL_TRAINED, _about(MODEL))
    v1 = decode(first.headers, first.value)[1]
    promoted = example(ModelPromoted).model_copy(update={
        "model": ModelRef(name=MODEL, version=1), "previous": None, "via": "direct",
        "artifact": v1.artifact,
    })  # fmt: skip
    await _send(local_stack, promoted)
    await asyncio.sleep(2)  # the promotion is followed before the next spec is handled
    changed = _spec_event(MODEL, "target", trees=60)
    sent = await _send(local_stack, changed)
    trained = await _one(local_stack, topics.MODEL_TRAINED, _caused_by(sent.id))
    assert isinstance(trained, ModelTrained)
    check = trained.champion_comparison
    assert check is not None
    assert check.status == "compared", check.message
    assert check.champion == ModelRef(name=MODEL, version=1)
    assert check.rows == trained.holdout_rows
    accuracy = next(m for m in check.metrics if m.metric == "accuracy")
    assert accuracy.interval_low <= accuracy.delta <= accuracy.interval_high


async def test_a_spec_published_straight_to_kafka_is_not_current(
    local_stack: StackInfo, training: ServiceRuntime
) -> None:
    """Issue #15: only the registry's word makes a spec current. A spec written to the topic
    by anyone else (unsigned, claiming user:alice; or the registry's genuine signature over
    other bytes) is dead-lettered as unverified_origin; accepted data then starts no run."""
    forged_model = f"forged-{UID}"
    spec = _spec_event(forged_model, "target")
    await publish_as(local_stack, None, spec, source="driftline/registry", actor="user:alice")
    genuine = new_envelope(spec, source="driftline/registry", actor="user:alice")
    signer = stack_signer(local_stack, "registry")
    assert signer is not None  # the session stack made the registry's key
    record = encode(spec, genuine)  # same envelope, same signature, re-serialized payload
    headers = [*record.headers, *signer.signature(record.headers, record.value)]
    tampered = json.dumps(json.loads(record.value), indent=1).encode()
    await produce_raw(local_stack.kafka_bootstrap, topics.MODEL_SPEC_APPLIED,
                      [(record.key, tampered, headers)])  # fmt: skip

    def ours(record: ConsumerRecord) -> bool:
        return header(record, "ce_subject") == forged_model and header(
            record, "dlq-consumer") == "training.on_model_spec_applied"  # fmt: skip

    dead = await read_topic(local_stack.kafka_bootstrap, topics.dlq(topics.MODEL_SPEC_APPLIED),
                            ours, count=2, timeout_s=60)  # fmt: skip
    assert all(str(header(d, "dlq-reason")).startswith("unverified_origin: ") for d in dead)
    ref = await asyncio.to_thread(put_frame, local_stack, DATASET, cancer_frame())
    validated = example(DataValidated).model_copy(update={"dataset": ref, "models": [forged_model]})
    await _send(local_stack, validated)
    await _handled(local_stack, topics.DATA_VALIDATED, "training.on_data_validated")
    async with training.units() as uow:
        assert await PostgresTrainingRepository(uow.session).spec(forged_model) is None
    assert await _jobs_of(training, forged_model) == 0
    assert training.metrics.registry.get_sample_value(
        "driftline_dead_letters_total",
        {"service": "training", "topic": topics.MODEL_SPEC_APPLIED, "reason": "unverified_origin"},
    ) >= 2  # fmt: skip


async def test_forged_data_or_drift_straight_to_kafka_starts_no_run(
    local_stack: StackInfo, training: ServiceRuntime
) -> None:
    """Only validation's word makes data trainable, only monitoring's starts a retrain. With a
    current spec waiting for its dataset, a DataValidated naming any S3 object that validation
    did not sign (unsigned as service:validation, or signed by ingest's genuine key) and an
    unsigned DriftDetected are dead-lettered as unverified_origin by training: no job starts."""
    model, dataset = f"poisoned-{UID}", f"poisoned-data-{UID}"
    await _send(local_stack, _spec_event(model, "target", dataset=dataset))  # the registry's
    await _wait_for_spec(training, model)  # current: accepted data would start its run
    stored = await asyncio.to_thread(put_frame, local_stack, DATASET, cancer_frame())
    ref = stored.model_copy(update={"name": dataset})
    validated = example(DataValidated).model_copy(update={"dataset": ref, "models": [model]})
    await publish_as(local_stack, None, validated, source="driftline/validation",
                     actor="service:validation")  # fmt: skip
    await publish_as(local_stack, "ingest", validated, source="driftline/validation")
    drift = example(DriftDetected).model_copy(update={"model": ModelRef(name=model, version=1)})
    await publish_as(local_stack, None, drift, source="driftline/monitoring")

    def ours(consumer: str) -> Callable[[ConsumerRecord], bool]:
        return lambda r: header(r, "dlq-consumer") == consumer and header(
            r, "ce_subject") in (dataset, model)  # fmt: skip

    dead = [
        *await read_topic(local_stack.kafka_bootstrap, topics.dlq(topics.DATA_VALIDATED),
                          ours("training.on_data_validated"), count=2, timeout_s=60),
        *await read_topic(local_stack.kafka_bootstrap, topics.dlq(topics.DRIFT_DETECTED),
                          ours("training.on_drift_detected"), timeout_s=60),
    ]  # fmt: skip
    assert all(str(header(d, "dlq-reason")).startswith("unverified_origin: ") for d in dead)
    await _handled(local_stack, topics.DATA_VALIDATED, "training.on_data_validated")
    await _handled(local_stack, topics.DRIFT_DETECTED, "training.on_drift_detected")
    assert await _jobs_of(training, model) == 0
    skipped = await read_all(local_stack.kafka_bootstrap, topics.RETRAIN_SKIPPED, _about(model))
    assert skipped == []  # the forged drift was not even answered
