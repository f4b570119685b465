"""Hostile Kafka records: hypothesis strategies that break a valid event in one way each."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import strategies as st

from driftline.runtime.consumer import Subscription
from driftline.runtime.deadletter import RawRecord
from driftline_contracts.codec import encode
from driftline_contracts.envelope import new_envelope
from driftline_contracts.events import Event
from driftline_contracts.examples import example, examples
from driftline_contracts.origin import SIGNED_BY
from tests.signing import KEYS, signed_record

TEN_MB = "x" * (10 * 1024 * 1024)
REQUIRED_HEADERS = ("ce_id", "ce_source", "ce_type", "ce_specversion", "ce_time", "ce_subject")
KINDS = (
    "truncated-json",
    "wrong-type",
    "non-finite",
    "unknown-type",
    "extra-field",
    "missing-header",
    "ten-mb-string",
    "bad-header",
)


@dataclass(frozen=True)
class Hostile:
    """One hostile record and how it was made."""

    kind: str
    record: RawRecord


def good_event(subscription: Subscription) -> Event:
    """A valid event the subscription accepts."""
    if subscription.event_type is object:
        return next(iter(examples().values()))
    return example(subscription.event_type)


def good_record(subscription: Subscription, offset: int = 0) -> RawRecord:
    """The valid event as a consumed record (signed by its producer when a consumer checks
    who emitted its type: ``driftline_contracts.origin.SIGNED_BY``)."""
    event = good_event(subscription)
    signer = SIGNED_BY.get(event.ce_type)
    if signer is not None:
        signed = signed_record(event, by=signer, offset=offset)
        return _with(signed, topic=subscription.source_topic)
    encoded = encode(event, new_envelope(event, source="pipeline/fuzz", actor="pipeline:fuzz"))
    return RawRecord(
        topic=subscription.source_topic,
        partition=0,
        offset=offset,
        key=encoded.key,
        value=encoded.value,
        headers=encoded.headers,
    )


FORGERIES = ("unsigned", "other-service", "attacker-key", "payload-changed", "actor-changed")


def signed_types(subscription: Subscription) -> list[type[Event]]:
    """The event types a subscription may receive that only one service may emit."""
    accepted = examples().values() if subscription.event_type is object else [
        example(subscription.event_type)
    ]  # fmt: skip
    return [type(e) for e in accepted if e.ce_type in SIGNED_BY]


@st.composite
def forged_records(draw: st.DrawFn, subscription: Subscription) -> Hostile:
    """A well-formed event of a signed type that its signer did not emit as it is."""
    event = example(draw(st.sampled_from(signed_types(subscription))))
    signer, kind = SIGNED_BY[event.ce_type], draw(st.sampled_from(FORGERIES))
    offset = draw(st.integers(0, 10**9))
    if kind == "unsigned":
        record = signed_record(event, by=None, actor="user:mallory", offset=offset)
    elif kind == "other-service":
        other = draw(st.sampled_from(sorted(s for s in KEYS if s != signer)))
        record = signed_record(event, by=signer, key=KEYS[other], offset=offset)
    elif kind == "attacker-key":
        record = signed_record(event, by=signer, key=_ATTACKER, offset=offset)
    else:
        record = signed_record(event, by=signer, actor="user:alice", offset=offset)
        if kind == "payload-changed":  # the same event, serialized otherwise: other bytes
            record = _with(record, value=json.dumps(json.loads(record.value), indent=1).encode())
        else:
            record = _with(record, headers=tuple(
                (k, b"user:mallory" if k == "ce_actor" else v) for k, v in record.headers
            ))  # fmt: skip
    return Hostile(kind, _with(record, topic=subscription.source_topic))


_ATTACKER = Ed25519PrivateKey.generate()


def _paths(document: object, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a JSON document."""
    found = [prefix] if prefix else []
    if isinstance(document, dict):
        for key, value in document.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += _paths(value, (*prefix, index))
    return found


def _replace(document: object, path: tuple, value: object) -> object:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(document, dict):
        return {**document, head: _replace(document[head], rest, value)}
    assert isinstance(document, list)
    return [_replace(v, rest, value) if i == head else v for i, v in enumerate(document)]


_WRONG = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@st.composite
def hostile_records(draw: st.DrawFn, subscription: Subscription) -> Hostile:
    """A record of ``subscription``'s topic broken in one of :data:`KINDS` ways."""
    good = good_record(subscription, offset=draw(st.integers(0, 10**9)))
    headers = list(good.headers)
    value = good.value
    document = json.loads(value)
    kind = draw(st.sampled_from(KINDS))
    if kind == "truncated-json":
        value = value[: draw(st.integers(0, len(value) - 1))]
    elif kind == "wrong-type":
        path = draw(st.sampled_from(_paths(document)))
        value = json.dumps(_replace(document, path, draw(_WRONG))).encode()
    elif kind == "non-finite":
        path = draw(st.sampled_from(_paths(document)))
        token = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999"]))
        value = json.dumps(_replace(document, path, "@@")).replace('"@@"', token).encode()
    elif kind == "unknown-type":
        ce_type = draw(
            st.sampled_from([t.rsplit(".v", 1)[0] + ".v99" for t in examples()])
            | st.text(max_size=40).map(lambda t: f"io.driftline.{t}.v1")
            | st.just("")
        )
        headers = [(k, ce_type.encode() if k == "ce_type" else v) for k, v in headers]
    elif kind == "extra-field":
        targets = [p for p in _paths(document) if isinstance(_get(document, p), dict)]
        path = draw(st.sampled_from([(), *targets]))
        name = draw(st.text(min_size=1, max_size=12).filter(lambda n: n not in str(document)))
        extended = {**_get(document, path), name: draw(_WRONG)}
        value = json.dumps(_replace(document, path, extended)).encode()
    elif kind == "missing-header":
        dropped = draw(st.sets(st.sampled_from(REQUIRED_HEADERS), min_size=1))
        headers = [(k, v) for k, v in headers if k not in dropped]
    elif kind == "ten-mb-string":
        where = draw(st.sampled_from(["payload", *REQUIRED_HEADERS]))
        if where == "payload":
            path = draw(st.sampled_from(_paths(document)))
            value = json.dumps(_replace(document, path, TEN_MB)).encode()
        else:
            headers = [(k, TEN_MB.encode() if k == where else v) for k, v in headers]
    else:  # bad-header: not UTF-8, twice with different values, wrong version or media type
        name = draw(st.sampled_from(REQUIRED_HEADERS))
        how = draw(st.sampled_from(["not-utf8", "twice", "specversion", "content-type"]))
        if how == "not-utf8":
            headers = [(k, b"\xff\xfe" if k == name else v) for k, v in headers]
        elif how == "twice":
            headers.append((name, b"another " + dict(headers)[name]))
        elif how == "specversion":
            headers = [(k, b"2.0" if k == "ce_specversion" else v) for k, v in headers]
        else:
            headers = [(k, b"text/plain" if k == "content-type" else v) for k, v in headers]
    return Hostile(kind, _with(good, value=value, headers=tuple(headers)))


def _get(document: object, path: tuple) -> object:
    for step in path:
        document = document[step]  # type: ignore[index]
    return document


def _with(record: RawRecord, **changes: object) -> RawRecord:
    return RawRecord(**{**record.__dict__, **changes})
