"""Scenario 7: hostile records against every consumer of every service.

In process, hypothesis breaks a valid event of each subscription's type (truncated JSON,
wrong types, NaN/inf, unknown type or version, extra fields, missing or bad headers, 10 MB
strings) and hands it to that subscription's real EventProcessor: it must never raise,
never reach the handler, and dead-letter the untouched record with its reason. Well-formed
forgeries of the events only one service may emit (unsigned, signed by another service or an
attacker, a genuine signature on other bytes or another actor) are dead-lettered as
``unverified_origin`` by every consumer of them. On the real broker, a burst of such records
ahead of a good one on the same partition must not stall it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import from_json

from driftline.runtime.app import load_definition
from driftline.runtime.consumer import EventProcessor, Outcome, Subscription
from driftline.runtime.deadletter import MAX_REASON_CHARS, DeadLetterPublisher
from driftline.runtime.metrics import Metrics
from driftline.runtime.services import SERVICE_NAMES
from driftline.runtime.settings import RetrySettings
from driftline_contracts.catalog import event_class
from driftline_contracts.errors import ContractError
from driftline_contracts.topics import dlq
from tests.reliability.figures import Figures
from tests.reliability.hostile import (
    FORGERIES,
    KINDS,
    Hostile,
    forged_records,
    good_record,
    hostile_records,
    signed_types,
)
from tests.signing import verifier

SUBSCRIPTIONS = [
    (service, sub)
    for service in SERVICE_NAMES
    for sub in load_definition(service).subscriptions(None)  # type: ignore[arg-type]
]
CONTRACT_ERRORS = {c.__name__ for c in (ContractError, *ContractError.__subclasses__())}
TALLY: Counter[str] = Counter()
FORGED: Counter[str] = Counter()
CHECKING = [case for case in SUBSCRIPTIONS if signed_types(case[1])]
"""Subscriptions that receive event types only one service may emit."""


class Reached(BaseException):
    """The record got past decoding to the point of opening a transaction."""


class NoUnits:
    """A UnitOfWorkFactory that must not be used: hostile records never reach a handler."""

    def __init__(self) -> None:
        self.opened = 0

    @asynccontextmanager
    async def __call__(self, **_: Any) -> AsyncIterator[None]:
        self.opened += 1
        raise Reached
        yield  # pragma: no cover

    def consuming(self, _cause: Any) -> Any:
        """The consumer's transaction for one event: opening it is reaching the handler."""
        return self()


class Sender:
    """Collects dead letters."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes | None, dict[str, bytes]]] = []

    async def send(self, topic: str, value: bytes, *, key: bytes | None, headers: Any) -> None:
        self.sent.append((topic, value, key, dict(headers)))


async def _no_sleep(_: float) -> None:
    return None


def _processor(service: str, sub: Subscription) -> tuple[EventProcessor, NoUnits, Sender]:
    units, sender = NoUnits(), Sender()
    processor = EventProcessor(
        sub,
        service=service,
        units=units,  # type: ignore[arg-type]
        dead_letters=DeadLetterPublisher(sender),
        retry=RetrySettings(),
        metrics=Metrics(service),
        sleep=_no_sleep,
        origin=verifier(),  # as ServiceRuntime builds it from the stack's public keys
    )
    return processor, units, sender


def _still_valid(hostile: Hostile, sub: Subscription) -> bool:
    """Whether a 'wrong type'/'extra field' mutation happens to be a valid event after all."""
    if hostile.kind not in ("wrong-type", "extra-field"):
        return False
    ce_type = dict(hostile.record.headers)["ce_type"].decode()
    try:
        event_class(ce_type).model_validate(from_json(hostile.record.value))
    except (ValidationError, ValueError):
        return False
    return True


def _ids(case: tuple[str, Subscription]) -> str:
    return f"{case[0]}.{case[1].name}"


def test_every_service_consumes_something() -> None:
    assert {service for service, _ in SUBSCRIPTIONS} >= set(SERVICE_NAMES) - {"validation"} | {
        "validation"
    }


@pytest.mark.parametrize("case", SUBSCRIPTIONS, ids=_ids)
async def test_a_good_event_reaches_the_handler(case: tuple[str, Subscription]) -> None:
    """Positive control: the fuzz below would notice a processor that refuses everything."""
    processor, units, sender = _processor(*case)
    with pytest.raises(Reached):
        await processor.process(good_record(case[1]))
    assert units.opened == 1
    assert sender.sent == []


@pytest.mark.parametrize("case", SUBSCRIPTIONS, ids=_ids)
@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
async def test_hostile_records_are_dead_lettered_with_their_reason(
    case: tuple[str, Subscription], data: st.DataObject
) -> None:
    service, sub = case
    hostile = data.draw(hostile_records(sub), label="hostile")
    assume(not _still_valid(hostile, sub))
    processor, units, sender = _processor(service, sub)

    outcome = await asyncio.wait_for(processor.process(hostile.record), 10)

    assert outcome is Outcome.DEAD_LETTERED, hostile.kind
    assert units.opened == 0, f"{hostile.kind} reached the handler"
    ((topic, value, key, headers),) = sender.sent
    assert topic == dlq(sub.source_topic)
    assert (value, key) == (hostile.record.value, hostile.record.key)
    reason = headers["dlq-reason"].decode()
    assert reason
    assert len(reason) <= MAX_REASON_CHARS
    assert headers["dlq-error-type"].decode() in CONTRACT_ERRORS
    assert headers["dlq-original-offset"] == str(hostile.record.offset).encode()
    assert headers["dlq-consumer"] == processor.consumer.encode()
    TALLY[hostile.kind] += 1


def test_every_consumer_of_signed_events_is_fuzzed_with_forgeries() -> None:
    names = {f"{service}.{sub.name}" for service, sub in CHECKING}
    assert {"training.on_model_spec_applied", "validation.on_model_spec_applied",
            "deployment.on_model_spec_applied", "deployment.on_model_approved",
            "registry.on_model_trained", "monitoring.on_model_promoted",
            "audit.on_audited_event", "console.on_audited_event",
            "training.on_data_validated", "training.on_drift_detected",
            "monitoring.on_data_validated", "ingest.on_data_validated",
            "ingest.on_data_rejected"} <= names  # fmt: skip


@pytest.mark.parametrize("case", CHECKING, ids=_ids)
@settings(max_examples=25, deadline=None, database=None)
@given(data=st.data())
async def test_forged_events_are_dead_lettered_as_unverified_origin(
    case: tuple[str, Subscription], data: st.DataObject
) -> None:
    service, sub = case
    forged = data.draw(forged_records(sub), label="forged")
    processor, units, sender = _processor(service, sub)

    outcome = await asyncio.wait_for(processor.process(forged.record), 10)

    assert outcome is Outcome.DEAD_LETTERED, forged.kind
    assert units.opened == 0, f"{forged.kind} reached the handler"
    ((topic, value, _, headers),) = sender.sent
    assert topic == dlq(sub.source_topic)
    assert value == forged.record.value
    assert headers["dlq-reason"].startswith(b"unverified_origin: ")
    assert headers["dlq-error-type"] == b"UnverifiedOrigin"
    FORGED[forged.kind] += 1


def test_zz_fuzz_figures(figures: Figures) -> None:
    """Record how many hostile records of each kind were dead-lettered (all of them)."""
    assert set(TALLY) == set(KINDS), TALLY
    figures.record(
        "7 hostile events (in process)",
        **{
            "events in": sum(TALLY.values()),
            "effects": 0,
            "lost": 0,
            "duplicates applied": 0,
            "redeliveries": 0,
            "consumers fuzzed": len(SUBSCRIPTIONS),
            "dead-lettered with reason": sum(TALLY.values()),
            "crashes": 0,
            **{f"kind {k}": v for k, v in sorted(TALLY.items())},
        },
    )
    assert set(FORGED) == set(FORGERIES), FORGED
    figures.record(
        "7b forged events (in process)",
        **{
            "forgeries in": sum(FORGED.values()),
            "consumers fuzzed": len(CHECKING),
            "reached a handler": 0,
            "dead-lettered unverified_origin": sum(FORGED.values()),
            **{f"kind {k}": v for k, v in sorted(FORGED.items())},
        },
    )
