"""Only the service that may emit an event type makes consumers act on it (issue #15).

Signatures over the envelope and payload, the consumer dead-lettering forgeries as
``unverified_origin`` before any handler runs, and the unit of work signing what it emits.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from driftline.runtime.consumer import EventProcessor, Outcome, Subscription
from driftline.runtime.deadletter import DeadLetterPublisher, RawRecord
from driftline.runtime.event_signing import EventSigner, UnverifiedOrigin, key_id
from driftline.runtime.metrics import Metrics
from driftline.runtime.settings import RetrySettings
from driftline.runtime.uow import UnitOfWork
from driftline_contracts.events import (
    DataArrived,
    DataRejected,
    DataValidated,
    DriftDetected,
    DriftResolved,
    ModelApproved,
    ModelPromoted,
    ModelSpecApplied,
)
from driftline_contracts.examples import example
from driftline_contracts.origin import KEY_ID_HEADER, SIGNATURE_HEADER, SIGNED_BY
from tests.signing import KEYS, signed_record, verifier
from tests.unit.runtime.test_event_processor import FakeSender, FakeUnits


def _replace_header(record: RawRecord, name: str, value: bytes) -> RawRecord:
    headers = tuple((k, value if k == name else v) for k, v in record.headers)
    return dataclasses.replace(record, headers=headers)


def _forgeries() -> dict[str, RawRecord]:
    """A ModelSpecApplied as an attacker with write access to the topic can make it."""
    spec = example(ModelSpecApplied)
    genuine = signed_record(spec, by="registry", actor="user:alice")
    attacker = Ed25519PrivateKey.generate()
    tampered = json.loads(genuine.value)
    tampered["trainer"] = "sklearn.tree.DecisionTreeClassifier"
    return {
        "unsigned": signed_record(spec, by=None, actor="user:alice"),
        "attacker's key": signed_record(spec, by="registry", key=attacker),
        "attacker's key under the registry's key id": _replace_header(
            signed_record(spec, by="registry", key=attacker),
            KEY_ID_HEADER,
            key_id(KEYS["registry"].public_key()).encode(),
        ),
        "another service's genuine key": signed_record(spec, by="deployment"),
        "genuine signature, payload changed": dataclasses.replace(
            genuine, value=json.dumps(tampered).encode()
        ),
        "genuine signature, actor changed": _replace_header(genuine, "ce_actor", b"user:bob"),
        "genuine signature, id changed": _replace_header(genuine, "ce_id", b"forged-1"),
        "garbage signature": _replace_header(genuine, SIGNATURE_HEADER, b"%%%not-base64"),
    }


FORGERIES = _forgeries()


def _verify(record: RawRecord) -> str | None:
    ce_type = dict(record.headers)["ce_type"].decode()
    return verifier().verify(ce_type, record.headers, record.value)


def test_a_genuine_signature_is_verified() -> None:
    assert _verify(signed_record(example(ModelSpecApplied), by="registry", actor="user:a"))
    assert _verify(signed_record(example(ModelPromoted), by="deployment"))


@pytest.mark.parametrize("kind", FORGERIES)
def test_a_forged_spec_is_unverified(kind: str) -> None:
    with pytest.raises(UnverifiedOrigin, match=r"^unverified_origin: io\.driftline\.spec\.applied"):
        _verify(FORGERIES[kind])


def test_types_nobody_must_sign_pass_unsigned() -> None:
    assert _verify(signed_record(example(DataArrived), by=None)) is None
    assert _verify(signed_record(example(DataArrived), by="ingest")) == "ingest"


def test_the_table_names_the_one_service_whose_word_each_decision_is() -> None:
    assert SIGNED_BY[ModelSpecApplied.ce_type] == "registry"
    assert SIGNED_BY[ModelApproved.ce_type] == "registry"
    assert SIGNED_BY[ModelPromoted.ce_type] == "deployment"
    assert SIGNED_BY[DataValidated.ce_type] == SIGNED_BY[DataRejected.ce_type] == "validation"
    assert SIGNED_BY[DriftDetected.ce_type] == SIGNED_BY[DriftResolved.ce_type] == "monitoring"
    assert DataArrived.ce_type not in SIGNED_BY  # pipelines publish it; validation checks it
    assert set(SIGNED_BY.values()) == {
        "registry", "training", "deployment", "validation", "monitoring"
    }  # fmt: skip


def _processor(event_type: type, handler: Any, batch_size: int = 1) -> tuple[
    EventProcessor, FakeUnits, FakeSender, Metrics
]:  # fmt: skip
    async def no_sleep(_: float) -> None:
        return None

    units, sender, metrics = FakeUnits(), FakeSender(), Metrics("test")
    processor = EventProcessor(
        Subscription(event_type, handler, batch_size=batch_size),
        service="training",
        units=units,  # type: ignore[arg-type]
        dead_letters=DeadLetterPublisher(sender),
        retry=RetrySettings(max_attempts=3, initial_backoff_s=0.01, jitter=0),
        metrics=metrics,
        sleep=no_sleep,
        origin=verifier(),
    )
    return processor, units, sender, metrics


def _dead_letters(metrics: Metrics, reason: str) -> float:
    total = 0.0
    for metric in metrics.dead_letters.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels["reason"] == reason:
                total += sample.value
    return total


@pytest.mark.parametrize("kind", FORGERIES)
async def test_a_forged_spec_never_reaches_the_handler(kind: str) -> None:
    seen: list[Any] = []

    async def on_model_spec_applied(event: ModelSpecApplied, uow: Any) -> None:
        seen.append(event)

    processor, units, sender, metrics = _processor(ModelSpecApplied, on_model_spec_applied)
    record = FORGERIES[kind]
    assert await processor.process(record) is Outcome.DEAD_LETTERED
    assert seen == []
    assert units.transactions == 0
    ((topic, value, headers),) = sender.sent
    assert topic == "driftline.model-spec-applied.dlq"
    assert value == record.value
    assert headers["dlq-reason"].startswith(b"unverified_origin: ")
    assert headers["dlq-attempts"] == b"0"
    assert _dead_letters(metrics, "unverified_origin") == 1


@pytest.mark.parametrize("event_type", [ModelApproved, ModelPromoted])
async def test_forged_approvals_and_promotions_are_dead_lettered(event_type: type) -> None:
    seen: list[Any] = []

    async def handler(event: Any, uow: Any) -> None:
        seen.append(event)

    processor, _, sender, _ = _processor(event_type, handler)
    forged = signed_record(example(event_type), by=None, actor="user:mallory")
    wrong = signed_record(example(event_type), by="monitoring", actor="user:mallory")
    assert await processor.process(forged) is Outcome.DEAD_LETTERED
    assert await processor.process(wrong) is Outcome.DEAD_LETTERED
    assert seen == []
    assert len(sender.sent) == 2


async def test_genuine_events_flow_and_forged_ones_do_not_in_a_batch() -> None:
    seen: list[str] = []

    async def on_model_spec_applied(event: ModelSpecApplied, uow: Any) -> None:
        seen.append(uow.cause.actor)

    processor, _units, sender, _ = _processor(ModelSpecApplied, on_model_spec_applied, 10)
    spec = example(ModelSpecApplied)
    records = [
        signed_record(spec, by="registry", actor="user:alice", offset=0),
        dataclasses.replace(FORGERIES["unsigned"], offset=1),
        signed_record(spec, by="registry", actor="user:carol", offset=2),
    ]
    outcomes = await processor.process_batch(records)
    assert outcomes == [Outcome.HANDLED, Outcome.DEAD_LETTERED, Outcome.HANDLED]
    assert seen == ["user:alice", "user:carol"]
    assert [h["dlq-original-offset"] for _, _, h in sender.sent] == [b"1"]


async def test_the_unit_of_work_signs_what_it_emits() -> None:
    uow: UnitOfWork[None] = UnitOfWork(
        None,  # type: ignore[arg-type]  # emit queues rows; nothing touches the session
        source="driftline/registry",
        actor="user:alice",
        cause=None,
        deps=None,
        signer=EventSigner("registry", KEYS["registry"]),
    )
    await uow.emit(example(ModelApproved))
    (row,) = uow.take_outbox_rows()
    headers = [(name, value.encode()) for name, value in row["headers"]]
    assert verifier().verify(row["event_type"], headers, row["payload"])
    names = [name for name, _ in headers]
    assert SIGNATURE_HEADER in names
    assert KEY_ID_HEADER in names


async def test_without_a_signer_the_unit_of_work_emits_unsigned_events() -> None:
    uow: UnitOfWork[None] = UnitOfWork(
        None,  # type: ignore[arg-type]
        source="driftline/ingest", actor="service:ingest", cause=None, deps=None,
    )  # fmt: skip
    await uow.emit(example(DataArrived))
    (row,) = uow.take_outbox_rows()
    assert SIGNATURE_HEADER not in [name for name, _ in row["headers"]]


async def test_handlers_learn_whose_signature_was_verified() -> None:
    """The audit sink records it: the signing service, or None when nothing proves one."""
    seen: list[str | None] = []

    async def on_data_arrived(event: DataArrived, uow: Any) -> None:
        seen.append(uow.verified_by)

    processor, _, sender, _ = _processor(DataArrived, on_data_arrived)
    arrived = example(DataArrived)
    stranger = Ed25519PrivateKey.generate()
    records = [
        signed_record(arrived, by="ingest", offset=0),
        signed_record(arrived, by=None, offset=1),  # a pipeline's: nobody must sign it
        signed_record(arrived, by="ingest", key=stranger, offset=2),  # a key nobody knows
        _replace_header(signed_record(arrived, by="ingest", offset=3), "ce_actor", b"user:x"),
    ]
    for record in records:
        assert await processor.process(record) is Outcome.HANDLED
    assert seen == ["ingest", None, None, None]
    assert sender.sent == []
    spec_seen: list[str | None] = []

    async def on_model_spec_applied(event: ModelSpecApplied, uow: Any) -> None:
        spec_seen.append(uow.verified_by)

    processor, _, _, _ = _processor(ModelSpecApplied, on_model_spec_applied, batch_size=10)
    spec = example(ModelSpecApplied)
    await processor.process_batch([signed_record(spec, by="registry", offset=i) for i in (0, 1)])
    assert spec_seen == ["registry", "registry"]
