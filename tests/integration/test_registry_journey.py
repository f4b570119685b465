"""Registry journeys on the real local stack: specs in, versions, gates, approval, aliases out.

The service runs in-process (its FastAPI app over ``httpx.ASGITransport``) against the stack's
broker and PostgreSQL; training and deployment are played by publishing their events.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from driftline.registry.adapters.postgres import PostgresSpecHistory
from driftline.registry.app import definition
from driftline.registry.models import SpecRecord
from driftline.runtime.consumer import Outcome
from driftline.runtime.deadletter import RawRecord
from driftline.runtime.http import build_http_app
from driftline.runtime.service import ServiceRuntime
from driftline.stack.info import StackInfo
from driftline_contracts import topics
from driftline_contracts.codec import encode
from driftline_contracts.envelope import new_envelope
from driftline_contracts.events.deployment import ModelPromoted
from driftline_contracts.events.training import ChampionComparison, MetricComparison, ModelTrained
from driftline_contracts.examples import example
from driftline_contracts.values import ModelRef
from tests.integration.kafka_helpers import (
    header,
    produce_raw,
    read_all,
    read_topic,
    settings_from,
)
from tests.signing import publish_signed, stack_signer
from tests.tokens import as_user, stack_headers, with_users

pytestmark = pytest.mark.integration
USERS = (("user:alice", "publisher"), ("user:carol", "publisher"), ("user:bob", "approver"),
         ("user:carol", "approver"), ("user:dave", "approver"))  # fmt: skip
FORGED = {"X-Driftline-Actor": "user:mallory", "X-Driftline-Role": "approver"}


@dataclass
class Registry:
    """The running service, an HTTP client on it and the broker address."""

    runtime: ServiceRuntime
    http: httpx.AsyncClient
    stack: StackInfo

    @property
    def bootstrap(self) -> str:
        """The broker address."""
        return self.stack.kafka_bootstrap

    async def publish(self, event: Any, actor: str = "service:training") -> None:
        """Publish ``event`` as another service would (signed with its key)."""
        await publish_signed(self.stack, event, source="tests/registry", actor=actor)

    async def until(self, path: str, ready: Callable[[Any], bool], timeout_s: float = 20) -> Any:
        """Poll GET ``path`` until ``ready(body)``."""
        async with asyncio.timeout(timeout_s):
            while True:
                response = await self.http.get(path)
                if response.status_code == 200 and ready(response.json()):
                    return response.json()
                await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
async def registry(local_stack: StackInfo) -> AsyncIterator[Registry]:
    """The registry service running in-process on the stack."""
    settings = settings_from(with_users(local_stack.env(), *USERS))
    runtime = ServiceRuntime(definition(), settings)
    await runtime.start()  # ASGITransport does not run the lifespan
    transport = httpx.ASGITransport(app=build_http_app(runtime))
    publisher = stack_headers(local_stack, "publisher")  # every request unless a test says
    async with httpx.AsyncClient(
        transport=transport, base_url="http://registry", headers=publisher
    ) as http:
        yield Registry(runtime, http, local_stack)
    await runtime.stop()


def spec(model: str, **changes: Any) -> dict[str, Any]:
    return {
        "model": model, "dataset": "churn", "target": "churned", "task": "classification",
        "trainer": {"estimator": "sklearn.linear_model.LogisticRegression"},
        "gates": [{"metric": "accuracy", "min": 0.8, "beat_champion": 0.01}], **changes,
    }  # fmt: skip


def trained(
    model: str, run_id: str, accuracy: float, champion: tuple[int, float] | None = None
) -> ModelTrained:
    """A run; ``champion`` = (version, its accuracy on the same rows), interval +-0.015."""
    comparison = None
    if champion is not None:
        delta = accuracy - champion[1]
        found = MetricComparison(metric="accuracy", candidate=accuracy, champion=champion[1],
                                 delta=delta, interval_low=delta - 0.015,
                                 interval_high=delta + 0.015)  # fmt: skip
        comparison = ChampionComparison(
            status="compared", champion=ModelRef(name=model, version=champion[0]),
            message="compared", rows=500, resamples=1000, metrics=[found],
        )  # fmt: skip
    return example(ModelTrained).model_copy(update={
        "model": model, "run_id": run_id, "metrics": {"accuracy": accuracy, "f1": 0.8},
        "champion_comparison": comparison,
    })  # fmt: skip


def of(model: str, version: int | None = None) -> Callable[[Any], bool]:
    def match(record: Any) -> bool:
        if header(record, "ce_subject") != model:
            return False
        return version is None or json.loads(record.value)["model"]["version"] == version

    return match


async def test_invalid_spec_is_refused_naming_the_field(registry: Registry) -> None:
    body = spec(f"bad-{uuid.uuid4().hex[:8]}")
    del body["trainer"]
    response = await registry.http.post("/v1/specs", json=body)
    assert response.status_code == 422
    assert "trainer" in response.text


async def test_spec_versions_gates_champion_journey(registry: Registry) -> None:
    model, actor = f"reg-{uuid.uuid4().hex[:8]}", as_user("user:alice", "publisher")
    first = await registry.http.post("/v1/specs", json=spec(model), headers=actor)
    assert first.status_code == 201, first.text
    assert (first.json()["status"], first.json()["applied_by"]) == ("applied", "user:alice")
    again = await registry.http.post("/v1/specs", json=spec(model))
    assert (again.status_code, again.json()["status"]) == (200, "unchanged")
    # announced twice: re-applying an unchanged spec is how a failed training run is retried
    applied, again_applied = await read_topic(
        registry.bootstrap, topics.MODEL_SPEC_APPLIED, of(model), count=2
    )
    assert json.loads(applied.value)["spec_hash"] == first.json()["spec_hash"]
    assert json.loads(again_applied.value)["spec_hash"] == first.json()["spec_hash"]
    assert header(applied, "ce_actor") == "user:alice"
    latest = (await registry.http.get(f"/v1/specs/{model}")).json()
    assert (latest["version"], latest["spec"]["gates"][0]["min"]) == (1, 0.8)

    await registry.publish(trained(model, "run-1", 0.90))
    await read_topic(registry.bootstrap, topics.MODEL_REGISTERED, of(model, 1))
    [ok] = await read_topic(registry.bootstrap, topics.MODEL_APPROVED, of(model, 1))
    assert json.loads(ok.value)["approver"] == "service:registry"

    await registry.publish(trained(model, "run-1", 0.90))  # the same run again: no new version
    promoted = example(ModelPromoted).model_copy(
        update={"model": ModelRef(name=model, version=1), "previous": None, "via": "direct"}
    )
    await registry.publish(promoted, actor="service:deployment")
    await registry.until(f"/v1/models/{model}/aliases", lambda a: a and a[0]["version"] == 1)
    # 0.905 vs 0.90 on the same rows, interval [-0.01, +0.02]: no win of 0.01 beyond noise
    await registry.publish(trained(model, "run-2", 0.905, champion=(1, 0.90)))
    [no] = await read_topic(registry.bootstrap, topics.MODEL_REJECTED, of(model, 2))
    rejected = json.loads(no.value)
    assert [r["code"] for r in rejected["reasons"]] == ["gate.beat_champion_accuracy"]
    assert rejected["champion"] == {"name": model, "version": 1}
    assert "on the same 500 holdout rows" in rejected["reasons"][0]["message"]
    beat = next(g for g in rejected["gates"] if g["kind"] == "beat_champion")
    assert (beat["champion"], beat["rows"]) == (0.90, 500)

    versions = (await registry.http.get(f"/v1/models/{model}/versions")).json()
    assert [(v["version"], v["run_id"], v["status"]) for v in versions] == [
        (1, "run-1", "approved"), (2, "run-2", "rejected"),
    ]  # fmt: skip
    v1 = (await registry.http.get(f"/v1/models/{model}/versions/1")).json()
    assert v1["aliases"] == ["champion"]
    by_alias = (await registry.http.get(f"/v1/models/{model}/aliases/champion")).json()
    assert (by_alias["version"], by_alias["run_id"]) == (1, "run-1")
    missing = await registry.http.get(f"/v1/models/{model}/aliases/staging")
    assert missing.status_code == 404
    assert "no alias 'staging'" in missing.text
    assert v1["spec_hash"] == trained(model, "x", 0).spec_hash
    assert v1["dataset"]["sha256"] == trained(model, "x", 0).dataset.sha256
    summary = (await registry.http.get(f"/v1/models/{model}")).json()
    assert (summary["champion"], summary["versions"], summary["spec_version"]) == (1, 2, 1)
    assert len(await read_all(registry.bootstrap, topics.MODEL_REGISTERED, of(model))) == 2


async def test_manual_approval_needs_an_approver_who_did_not_train(registry: Registry) -> None:
    model = f"manual-{uuid.uuid4().hex[:8]}"
    response = await registry.http.post("/v1/specs", json=spec(model, approval="manual"))
    assert response.status_code == 201, response.text
    await registry.publish(trained(model, "run-1", 0.95), actor="user:bob")
    version = await registry.until(f"/v1/models/{model}/versions/1", lambda v: True)
    assert (version["status"], version["trainer"]) == ("pending", "user:bob")

    url = f"/v1/models/{model}/versions/1/approve"
    no_role = await registry.http.post(url, headers=as_user("user:carol", "publisher"))
    assert no_role.status_code == 403
    own = await registry.http.post(url, headers=as_user("user:bob", "approver"))
    assert own.status_code == 409
    ok = await registry.http.post(
        url, headers=as_user("user:carol", "approver"), json={"comment": "looks good"}
    )
    assert ok.status_code == 200, ok.text
    twice = await registry.http.post(url, headers=as_user("user:dave", "approver"))
    assert twice.status_code == 409
    [approved] = await read_topic(registry.bootstrap, topics.MODEL_APPROVED, of(model, 1))
    assert json.loads(approved.value)["approver"] == "user:carol"
    assert header(approved, "ce_actor") == "user:carol"


async def test_forged_approver_headers_approve_nothing(registry: Registry) -> None:
    """Role headers are not identity: without a token 401, with a publisher's token 403."""
    model = f"forged-{uuid.uuid4().hex[:8]}"
    response = await registry.http.post("/v1/specs", json=spec(model, approval="manual"))
    assert response.status_code == 201, response.text
    await registry.publish(trained(model, "run-1", 0.95), actor="user:bob")
    await registry.until(f"/v1/models/{model}/versions/1", lambda v: v["status"] == "pending")
    url = f"/v1/models/{model}/versions/1/approve"
    bare = registry.http.build_request("POST", url, headers=FORGED)
    del bare.headers["Authorization"]
    assert (await registry.http.send(bare)).status_code == 401
    as_publisher = await registry.http.post(url, headers=FORGED)  # + the publisher's token
    assert as_publisher.status_code == 403
    unknown = await registry.http.post(url, headers={**FORGED, "Authorization": "Bearer nope"})
    assert unknown.status_code == 401
    version = (await registry.http.get(f"/v1/models/{model}/versions/1")).json()
    assert version["status"] == "pending"


async def test_reads_by_alias_are_cached_and_follow_every_promotion(registry: Registry) -> None:
    """The by-alias answer comes from the process cache while its listener is up, and a
    promotion committed by the consumer is visible at the next read after the notification."""
    model = f"alias-{uuid.uuid4().hex[:8]}"
    assert (await registry.http.post("/v1/specs", json=spec(model))).status_code == 201
    await registry.publish(trained(model, "run-1", 0.90))
    await registry.publish(trained(model, "run-2", 0.95))
    await read_topic(registry.bootstrap, topics.MODEL_APPROVED, of(model, 2))
    by_alias = f"/v1/models/{model}/aliases/champion"
    for _ in range(200):  # up to 10 s for the LISTEN connection
        if registry.runtime.deps.by_alias.live:
            break
        await asyncio.sleep(0.05)
    assert registry.runtime.deps.by_alias.live
    for version, previous in ((1, None), (2, 1), (1, 2), (2, 1)):
        promoted = example(ModelPromoted).model_copy(update={
            "model": ModelRef(name=model, version=version),
            "previous": None if previous is None else ModelRef(name=model, version=previous),
            "via": "manual", "canary_id": None,
        })  # fmt: skip
        await registry.publish(promoted, actor="service:deployment")
        answer = await registry.until(by_alias, lambda body, v=version: body["version"] == v)
        assert answer["aliases"] == ["champion"]
        assert (await registry.http.get(by_alias)).json() == answer  # a cached read: the same


def batched_records(registry: Registry) -> float:
    """ModelTrained records the registry has handled in batches so far."""
    found = registry.runtime.metrics.registry.get_sample_value(
        "driftline_event_batch_records_sum",
        {"service": "registry", "type": ModelTrained.ce_type},  # type: ignore[attr-defined]
    )
    return found or 0.0


def _raw(event: Any, offset: int, stack: StackInfo) -> RawRecord:
    """``event`` as training emits it: signed with training's key on ``stack``."""
    envelope = new_envelope(event, source="tests/registry", actor="service:training")
    record = encode(event, envelope)
    signer = stack_signer(stack, "training")
    signature = signer.signature(record.headers, record.value) if signer else []
    return RawRecord(
        topic=record.topic, partition=0, offset=offset, key=record.key, value=record.value,
        headers=(*record.headers, *signature),
    )  # fmt: skip


async def test_backlog_batch_commits_together_and_a_bad_record_goes_alone(
    registry: Registry,
) -> None:
    """A polled backlog shares one transaction on the real PostgreSQL: versions follow record
    order, a redelivered run adds nothing; a record whose handler fails (its model has no spec)
    rolls the batch back, and the records are then handled one by one: the bad one
    dead-lettered, every other run registered exactly once."""
    model, orphan = f"backlog-{uuid.uuid4().hex[:8]}", f"nospec-{uuid.uuid4().hex[:8]}"
    assert (await registry.http.post("/v1/specs", json=spec(model))).status_code == 201
    processor = next(
        p for p in registry.runtime.processors if p.subscription.event_type is ModelTrained
    )
    assert processor.subscription.batch_size > 1
    first = [_raw(trained(model, f"run-{i}", 0.9), i, registry.stack) for i in range(20)]
    outcomes = await processor.process_batch([*first, first[3]])
    assert outcomes == [Outcome.HANDLED] * 20 + [Outcome.DUPLICATE]

    bad = _raw(trained(orphan, "run-x", 0.9), 100, registry.stack)
    second = [_raw(trained(model, f"run-{i}", 0.9), 100 + i, registry.stack) for i in range(20, 25)]
    outcomes = await processor.process_batch([second[0], bad, *second[1:]])
    assert outcomes == [Outcome.HANDLED, Outcome.DEAD_LETTERED] + [Outcome.HANDLED] * 4

    versions = (await registry.http.get(f"/v1/models/{model}/versions")).json()
    assert [(v["version"], v["run_id"]) for v in versions] == [
        (i + 1, f"run-{i}") for i in range(25)
    ]
    # The outbox relay publishes in the background: wait for all 25, then read the topic to
    # its end, where a duplicate would show.
    await read_topic(registry.bootstrap, topics.MODEL_REGISTERED, of(model), count=25)
    registered = await read_all(registry.bootstrap, topics.MODEL_REGISTERED, of(model))
    assert sorted(json.loads(r.value)["model"]["version"] for r in registered) == list(range(1, 26))
    dead_letter = (topics.dlq(topics.MODEL_TRAINED), lambda r: header(r, "ce_subject") == orphan)
    await read_topic(registry.bootstrap, *dead_letter)
    assert len(await read_all(registry.bootstrap, *dead_letter)) == 1


async def test_burst_of_trained_runs_over_kafka_registers_each_once_in_order(
    registry: Registry,
) -> None:
    """Thirty ModelTrained published at once reach the batching consumer through the broker."""
    model = f"burst-{uuid.uuid4().hex[:8]}"
    assert (await registry.http.post("/v1/specs", json=spec(model))).status_code == 201
    records = [_raw(trained(model, f"run-{i}", 0.9), i, registry.stack) for i in range(30)]
    batched_before = batched_records(registry)
    await produce_raw(
        registry.bootstrap, topics.MODEL_TRAINED,
        [(r.key, r.value, list(r.headers)) for r in records], together=True,
    )  # fmt: skip
    versions = await registry.until(
        f"/v1/models/{model}/versions", lambda vs: len(vs) >= 30, timeout_s=60
    )
    assert [(v["version"], v["run_id"]) for v in versions] == [
        (i + 1, f"run-{i}") for i in range(30)
    ]
    assert batched_records(registry) > batched_before  # some of the burst came as a batch


async def test_a_transaction_reads_a_models_newest_spec_once_and_sees_its_own_adds(
    registry: Registry,
) -> None:
    model = f"memo-{uuid.uuid4().hex[:8]}"

    def record(version: int) -> SpecRecord:
        return SpecRecord(
            model=model, version=version, spec_hash=f"{version:064x}", spec=spec(model),
            applied_by="user:alice", event_id=str(uuid.uuid4()),
        )  # fmt: skip

    async with registry.runtime.units() as uow:
        history = PostgresSpecHistory(uow.session)
        assert await history.latest(model) is None
        await history.add(record(1))
        assert (await PostgresSpecHistory(uow.session).latest(model)).version == 1  # type: ignore[union-attr]
        await history.add(record(2))
        assert (await history.latest(model)).version == 2  # type: ignore[union-attr]
    async with registry.runtime.units() as uow:
        assert (await PostgresSpecHistory(uow.session).latest(model)).version == 2  # type: ignore[union-attr]
