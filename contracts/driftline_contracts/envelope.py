"""CloudEvents 1.0 envelope on the Kafka protocol binding (binary mode: ``ce_*`` headers)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from driftline_contracts.errors import MalformedHeader, MissingHeader
from driftline_contracts.values import FROZEN, Actor, Slug

EventId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
Source = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,255}$")]
EventType = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$")]

CONTENT_TYPE: Final = "application/json"
HEADER_PREFIX = "ce_"
REQUIRED_ATTRIBUTES = (
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "subject",
    "correlationid",
    "actor",
)
OPTIONAL_ATTRIBUTES = ("causationid", "traceparent", "tracestate")
TRACE_ATTRIBUTES = ("traceparent", "tracestate")
"""The CloudEvents distributed-tracing extension: read leniently (a malformed value is dropped,
as W3C Trace Context asks, never a reason to refuse the event)."""
_TRACE_PATTERNS = {
    "traceparent": r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
    "tracestate": r"^[\x20-\x7e]{0,512}$",
}
TraceParent = Annotated[str, StringConstraints(pattern=_TRACE_PATTERNS["traceparent"])]
TraceState = Annotated[str, StringConstraints(pattern=_TRACE_PATTERNS["tracestate"])]


def _new_id() -> str:
    return str(uuid.uuid4())


class Envelope(BaseModel):
    """CloudEvents context attributes of one Driftline event, plus its extensions."""

    model_config = FROZEN

    specversion: Literal["1.0"] = Field("1.0", description="CloudEvents spec version.")
    id: EventId = Field(default_factory=_new_id, description="Unique event id (uuid4).")
    source: Source = Field(description="Producer, e.g. driftline/ingest or pipeline/nightly-etl.")
    type: EventType = Field(description="Event type, e.g. io.driftline.data.arrived.v1.")
    time: AwareDatetime = Field(
        default_factory=lambda: datetime.now(UTC), description="When it happened (UTC)."
    )
    subject: Slug = Field(description="Aggregate: dataset name (data events) or model name.")
    datacontenttype: Literal["application/json"] = Field(
        CONTENT_TYPE, description="Media type of the Kafka record value."
    )
    correlationid: EventId = Field(description="One id per lifecycle run, shared by its events.")
    causationid: EventId | None = Field(None, description="Id of the event that caused this one.")
    actor: Actor = Field(description="Who or what acted: service:NAME, user:NAME, pipeline:NAME.")
    traceparent: TraceParent | None = Field(
        None,
        description="W3C Trace Context traceparent of the span that emitted the event "
        "(CloudEvents distributed-tracing extension); absent when nothing traced it.",
    )
    tracestate: TraceState | None = Field(
        None, description="W3C Trace Context tracestate that goes with traceparent."
    )

    @field_validator("time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("time is out of range once converted to UTC") from None


def new_envelope(
    event: Any,
    *,
    source: str,
    actor: str,
    cause: Envelope | None = None,
    correlation_id: str | None = None,
    traceparent: str | None = None,
    tracestate: str | None = None,
) -> Envelope:
    """Envelope for ``event``; a caused event inherits the cause's correlation id."""
    event_id = _new_id()
    if cause is not None:
        correlation = correlation_id or cause.correlationid
    else:
        correlation = correlation_id or event_id
    return Envelope(
        id=event_id,
        source=source,
        type=event.ce_type,
        subject=event.subject(),
        correlationid=correlation,
        causationid=cause.id if cause else None,
        actor=actor,
        traceparent=traceparent,
        tracestate=tracestate if traceparent else None,
    )


def format_time(value: datetime) -> str:
    """RFC 3339 timestamp in UTC with a ``Z`` suffix."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_headers(env: Envelope) -> list[tuple[str, bytes]]:
    """Kafka headers for ``env``: ``ce_*`` attributes plus ``content-type``."""
    values = env.model_dump(exclude={"datacontenttype"})
    values["time"] = format_time(env.time)
    names = [*REQUIRED_ATTRIBUTES, *OPTIONAL_ATTRIBUTES]
    headers = [(HEADER_PREFIX + n, str(values[n]).encode()) for n in names if values[n] is not None]
    headers.append(("content-type", env.datacontenttype.encode()))
    return headers


def _header_map(headers: Any) -> dict[str, bytes | None]:
    """Headers as a dict; duplicates with different values are refused."""
    if headers is None:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    if not isinstance(items, Iterable) or isinstance(items, str | bytes):
        raise MalformedHeader("headers must be a list of (name, value) pairs")
    found: dict[str, bytes | None] = {}
    for item in items:
        if not isinstance(item, tuple | list) or len(item) != 2 or not isinstance(item[0], str):
            raise MalformedHeader("headers must be a list of (name, value) pairs")
        name, value = item[0].lower(), item[1]
        if isinstance(value, str):
            value = value.encode()
        if value is not None and not isinstance(value, bytes | bytearray):
            raise MalformedHeader(f"header {name[:64]!r} is not bytes")
        value = bytes(value) if value is not None else None
        if name in found and found[name] != value:
            raise MalformedHeader(f"header {name[:64]!r} appears twice with different values")
        found[name] = value
    return found


def _text(found: dict[str, bytes | None], name: str) -> str:
    raw = found.get(name)
    if raw is None:
        raise MissingHeader(name)
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise MalformedHeader(f"header {name!r} is not UTF-8") from None


def from_headers(headers: Any) -> Envelope:
    """Envelope read from Kafka headers; raises a ContractError subclass when they are invalid."""
    found = _header_map(headers)
    attrs: dict[str, str] = {n: _text(found, HEADER_PREFIX + n) for n in REQUIRED_ATTRIBUTES}
    if found.get(HEADER_PREFIX + "causationid") is not None:
        attrs["causationid"] = _text(found, HEADER_PREFIX + "causationid")
    attrs.update(_trace_attributes(found))
    if attrs["specversion"] != "1.0":
        raise MalformedHeader(f"unsupported ce_specversion {attrs['specversion'][:20]!r}")
    if found.get("content-type") is not None:
        media_type = _text(found, "content-type").split(";")[0].strip().lower()
        if media_type != CONTENT_TYPE:
            raise MalformedHeader(f"content-type {media_type[:64]!r} is not {CONTENT_TYPE}")
    try:
        return Envelope.model_validate(attrs)
    except ValidationError as exc:
        raise MalformedHeader(describe(exc, prefix="ce_")) from None


def _trace_attributes(found: dict[str, bytes | None]) -> dict[str, str]:
    """The tracing extension's attributes when well formed; {} otherwise (a fresh trace)."""
    attrs: dict[str, str] = {}
    for name, pattern in _TRACE_PATTERNS.items():
        raw = found.get(HEADER_PREFIX + name)
        if raw is not None and len(raw) <= 512 and raw.isascii():
            value = raw.decode()
            if re.fullmatch(pattern, value):
                attrs[name] = value
    return attrs if "traceparent" in attrs else {}


def describe(exc: ValidationError, *, prefix: str = "", limit: int = 5) -> str:
    """Short readable summary of a validation error, without the offending input."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    parts = []
    for error in errors[:limit]:
        location = ".".join(str(p) for p in error["loc"]) or "value"
        parts.append(f"{prefix}{location}: {error['msg']}")
    if len(errors) > limit:
        parts.append(f"and {len(errors) - limit} more")
    return "; ".join(parts)[:1000]
