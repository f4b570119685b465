"""Encode events to Kafka records and decode records back, total over any input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import from_json

from driftline_contracts.catalog import event_class
from driftline_contracts.envelope import Envelope, describe, from_headers, to_headers
from driftline_contracts.errors import ContractError, MalformedPayload, SubjectMismatch
from driftline_contracts.events import Event

MAX_PAYLOAD_BYTES = 900_000
"""Largest accepted record value (under Kafka's 1 MiB default with headers); bigger things
travel as ArtifactRefs."""


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """Everything a producer needs to send one event."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


def encode(event: Event, env: Envelope) -> KafkaRecord:
    """Record for ``event`` under ``env``: key = aggregate, value = compact JSON."""
    if env.type != event.ce_type:
        raise ContractError(f"envelope type {env.type!r} is not {event.ce_type!r}")
    if env.subject != event.subject():
        raise SubjectMismatch(env.subject, event.subject())
    value = event.model_dump_json().encode()
    if len(value) > MAX_PAYLOAD_BYTES:
        raise MalformedPayload(f"payload is {len(value)} bytes; limit is {MAX_PAYLOAD_BYTES}")
    return KafkaRecord(
        topic=event.topic, key=env.subject.encode(), value=value, headers=tuple(to_headers(env))
    )


def decode(headers: Any, value: Any) -> tuple[Envelope, Event]:
    """Envelope and event from a record; raises only ContractError subclasses."""
    env = from_headers(headers)
    cls = event_class(env.type)
    if not isinstance(value, bytes | bytearray | memoryview):
        raise MalformedPayload(f"{env.type} record has no bytes value")
    if len(value) > MAX_PAYLOAD_BYTES:
        raise MalformedPayload(f"payload is {len(value)} bytes; limit is {MAX_PAYLOAD_BYTES}")
    try:
        # Parse first so NaN, Infinity and overflowing numbers are refused even in free-form
        # JSON fields; then validate the parsed object.
        document = from_json(bytes(value), allow_inf_nan=False)
    except ValueError as exc:
        raise MalformedPayload(f"{env.type} payload is not JSON: {str(exc)[:200]}") from None
    try:
        event = cls.model_validate(document)
    except ValidationError as exc:
        raise MalformedPayload(f"invalid {env.type} payload: {describe(exc)}") from None
    if event.subject() != env.subject:
        raise SubjectMismatch(env.subject, event.subject())
    return env, event
