"""The tracing extension on the envelope stays backward compatible: events without it decode as
before, events with it decode on readers that know only the old attributes, and a malformed
value is dropped rather than refused."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from driftline_contracts.codec import decode, encode
from driftline_contracts.envelope import Envelope, from_headers, new_envelope, to_headers
from driftline_contracts.events.data import DataArrived
from driftline_contracts.examples import example

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _envelope(**trace: str) -> Envelope:
    return new_envelope(example(DataArrived), source="pipeline/etl", actor="pipeline:etl", **trace)


def test_trace_context_travels_as_ce_headers_and_round_trips() -> None:
    env = _envelope(traceparent=PARENT, tracestate="acme=7,other=x")
    headers = dict(to_headers(env))
    assert headers["ce_traceparent"] == PARENT.encode()
    assert headers["ce_tracestate"] == b"acme=7,other=x"
    assert from_headers(to_headers(env)) == env


def test_an_event_without_trace_context_has_no_trace_headers_and_decodes() -> None:
    event = example(DataArrived)
    env = _envelope()
    record = encode(event, env)
    assert not [n for n, _ in record.headers if "trace" in n]
    decoded_env, _ = decode(record.headers, record.value)
    assert decoded_env.traceparent is None


def test_a_reader_knowing_only_the_old_attributes_ignores_the_new_headers() -> None:
    record = encode(example(DataArrived), _envelope(traceparent=PARENT))
    old_attributes = {n for n in Envelope.model_fields if n not in ("traceparent", "tracestate")}
    found = {n.removeprefix("ce_"): v.decode() for n, v in record.headers if n.startswith("ce_")}
    old = {k: v for k, v in found.items() if k in old_attributes}  # what an old parser picks
    assert Envelope.model_validate(old).id == found["id"]


def test_a_cause_stored_as_json_before_the_extension_still_loads() -> None:
    stored = json.loads(_envelope().model_dump_json())
    for name in ("traceparent", "tracestate"):
        stored.pop(name)
    assert Envelope.model_validate_json(json.dumps(stored)).traceparent is None


def test_tracestate_without_traceparent_is_dropped() -> None:
    headers = [*to_headers(_envelope()), ("ce_tracestate", b"acme=7")]
    assert from_headers(headers).tracestate is None


@pytest.mark.parametrize("tracestate", [b"a" * 513, b"acme=\x007", "acme=\u00e9".encode()])
def test_a_malformed_tracestate_is_dropped_and_the_traceparent_kept(tracestate: bytes) -> None:
    headers = [*to_headers(_envelope(traceparent=PARENT)), ("ce_tracestate", tracestate)]
    env = from_headers(headers)
    assert (env.traceparent, env.tracestate) == (PARENT, None)


def test_building_an_envelope_with_a_malformed_traceparent_is_refused() -> None:
    with pytest.raises(ValidationError):
        _envelope(traceparent="00-xyz")
