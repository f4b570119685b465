"""Encoding and decoding events: round trips, and every bad record becomes a ContractError."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schema_strategies import fix_cross_field_rules, from_schema

from driftline_contracts.catalog import EVENT_CLASSES, EVENTS
from driftline_contracts.codec import MAX_PAYLOAD_BYTES, decode, encode
from driftline_contracts.envelope import new_envelope, to_headers
from driftline_contracts.errors import (
    ContractError,
    MalformedHeader,
    MalformedPayload,
    SubjectMismatch,
    UnknownEventType,
)
from driftline_contracts.events import DataArrived, ModelTrained
from driftline_contracts.examples import example, examples
from driftline_contracts.schema import event_schema

SAMPLES = list(examples().values())


def record_of(event):
    return encode(event, new_envelope(event, source="driftline/test", actor="service:test"))


def with_value(event, value: bytes):
    return list(record_of(event).headers), value


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_every_example_round_trips_with_its_topic_and_key(event):
    record = record_of(event)
    env, decoded = decode(list(record.headers), record.value)
    assert decoded == event
    assert record.topic == event.topic
    assert record.key == event.subject().encode() == env.subject.encode()
    assert b" " not in record.value.split(b'"')[0]  # compact JSON


def test_catalog_covers_the_proposed_events_once_each():
    names = {cls.__name__ for cls in EVENTS}
    assert len(names) == len(EVENT_CLASSES) == 23
    assert {"DataArrived", "ModelTrained", "CanaryRolledBack", "DriftDetected"} <= names
    assert {"BatchScoringRequested", "BatchScored", "BatchScoringFailed"} <= names
    assert "AuditDigestSigned" in names
    assert len({cls.topic for cls in EVENTS}) == 23


def test_data_events_are_keyed_by_dataset_and_the_rest_by_model():
    for event in SAMPLES:
        expected = "churn" if event.ce_type.startswith("io.driftline.data.") else "churn-clf"
        if event.ce_type.startswith("io.driftline.audit."):
            expected = "audit"  # the audit trail's own digests, keyed by the chain
        assert event.subject() == expected, type(event).__name__


@pytest.mark.parametrize("cls", EVENTS, ids=lambda c: c.__name__)
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_any_schema_valid_document_round_trips(cls, data):
    schema = event_schema(cls)
    doc = fix_cross_field_rules(data.draw(from_schema(schema, schema)))
    event = cls.model_validate(doc)
    record = record_of(event)
    assert decode(list(record.headers), record.value)[1] == event


@pytest.mark.parametrize("bad", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_non_finite_numbers_are_rejected_in_typed_and_free_form_fields(bad):
    trained = record_of(example(ModelTrained)).value.replace(
        b'"accuracy":0.912', b'"accuracy":' + bad
    )
    assert bad in trained
    with pytest.raises(MalformedPayload):
        decode(list(record_of(example(ModelTrained)).headers), trained)
    spec = next(e for e in SAMPLES if e.ce_type == "io.driftline.spec.applied.v1")
    value = record_of(spec).value.replace(b'"gates":{}', b'"gates":' + bad)
    with pytest.raises(MalformedPayload):
        decode(*with_value(spec, value))


def test_extra_fields_are_rejected_at_every_level():
    event = example(DataArrived)
    doc = json.loads(record_of(event).value)
    doc["dataset"]["owner"] = "bob"
    with pytest.raises(MalformedPayload, match=r"dataset\.owner"):
        decode(*with_value(event, json.dumps(doc).encode()))


@pytest.mark.parametrize("value", [b"", b"{", b"[]", b"\xff\xfe", b'"x"', b"null", None, "{}"])
def test_garbage_values_are_malformed_payloads(value):
    with pytest.raises(MalformedPayload):
        decode(*with_value(example(DataArrived), value))


def test_oversized_payloads_and_strings_are_refused():
    event = example(DataArrived)
    with pytest.raises(MalformedPayload, match="limit"):
        decode(*with_value(event, b" " * (MAX_PAYLOAD_BYTES + 1)))
    doc = json.loads(record_of(event).value)
    doc["dataset"]["uri"] = "s3://b/" + "k" * 5000
    with pytest.raises(MalformedPayload, match=r"dataset\.uri"):
        decode(*with_value(event, json.dumps(doc).encode()))


def test_wrong_types_name_the_field_in_the_reason():
    doc = json.loads(record_of(example(DataArrived)).value)
    doc["dataset"]["rows"] = "many"
    with pytest.raises(MalformedPayload) as caught:
        decode(*with_value(example(DataArrived), json.dumps(doc).encode()))
    assert "dataset.rows" in str(caught.value)
    assert "io.driftline.data.arrived.v1" in str(caught.value)


def test_subject_header_must_match_the_payload():
    event = example(DataArrived)
    env = new_envelope(event, source="pipeline/x", actor="pipeline:x").model_copy(
        update={"subject": "other"}
    )
    with pytest.raises(SubjectMismatch, match="other"):
        decode(to_headers(env), event.model_dump_json().encode())
    with pytest.raises(SubjectMismatch):
        encode(event, env)


def test_unknown_type_is_reported_as_such():
    event = example(DataArrived)
    env = new_envelope(event, source="pipeline/x", actor="pipeline:x").model_copy(
        update={"type": "io.driftline.data.arrived.v9"}
    )
    with pytest.raises(UnknownEventType, match=r"arrived\.v9"):
        decode(to_headers(env), b"{}")


def test_encode_refuses_an_envelope_of_another_type():
    event = example(DataArrived)
    env = new_envelope(example(ModelTrained), source="driftline/training", actor="service:training")
    with pytest.raises(ContractError):
        encode(event, env)


HEADER_NAMES = st.sampled_from(
    [
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_time",
        "ce_subject",
        "ce_correlationid",
        "ce_actor",
        "content-type",
    ]
)
HEADER_VALUES = (
    st.none()
    | st.binary(max_size=40)
    | st.sampled_from(
        [b"1.0", b"io.driftline.data.arrived.v1", b"churn", b"service:x", b"2025-01-01T00:00:00Z"]
    )
)
ANY_HEADERS = st.lists(st.tuples(HEADER_NAMES | st.text(max_size=5), HEADER_VALUES)) | st.one_of(
    st.none(),
    st.integers(),
    st.text(),
    st.lists(st.integers()),
    st.dictionaries(st.text(max_size=3), st.binary(max_size=3)),
)


@settings(max_examples=150, deadline=None)
@given(headers=ANY_HEADERS, value=st.none() | st.binary(max_size=200))
def test_decode_of_random_input_raises_only_contract_errors(headers, value):
    with contextlib.suppress(ContractError):
        decode(headers, value)


@settings(max_examples=100, deadline=None)
@given(event=st.sampled_from(SAMPLES), data=st.data())
def test_decode_of_corrupted_records_raises_only_contract_errors(event, data):
    record = record_of(event)
    value = bytearray(record.value)
    for _ in range(data.draw(st.integers(1, 4))):
        value[data.draw(st.integers(0, len(value) - 1))] = data.draw(st.integers(0, 255))
    headers = list(record.headers)
    if data.draw(st.booleans()):
        index = data.draw(st.integers(0, len(headers) - 1))
        headers[index] = (headers[index][0], data.draw(st.binary(max_size=30)))
    with contextlib.suppress(MalformedPayload, MalformedHeader, SubjectMismatch, UnknownEventType):
        decode(headers, bytes(value))
