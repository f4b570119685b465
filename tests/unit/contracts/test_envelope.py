"""Envelope: correlation and causation across a lifecycle, and the Kafka header binding."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline_contracts.envelope import Envelope, from_headers, new_envelope, to_headers
from driftline_contracts.errors import ContractError, MalformedHeader, MissingHeader
from driftline_contracts.events import DataArrived, DataValidated
from driftline_contracts.examples import example

ARRIVED, VALIDATED = example(DataArrived), example(DataValidated)


def root() -> Envelope:
    return new_envelope(ARRIVED, source="pipeline/nightly-etl", actor="pipeline:nightly-etl")


def test_a_root_event_starts_its_own_correlation():
    env = root()
    assert env.correlationid == env.id
    assert env.causationid is None
    assert env.type == "io.driftline.data.arrived.v1"
    assert env.subject == "churn"
    assert env.time.utcoffset() == timedelta(0)


def test_a_caused_event_inherits_correlation_and_points_at_its_cause():
    cause = root()
    env = new_envelope(
        VALIDATED, source="driftline/validation", actor="service:validation", cause=cause
    )
    assert env.correlationid == cause.correlationid
    assert env.causationid == cause.id
    assert env.id not in (cause.id, cause.correlationid)
    grandchild = new_envelope(VALIDATED, source="driftline/x", actor="service:x", cause=env)
    assert grandchild.correlationid == cause.id


def test_a_given_correlation_id_is_kept():
    env = new_envelope(ARRIVED, source="pipeline/p", actor="pipeline:p", correlation_id="run-42")
    assert env.correlationid == "run-42"


def test_headers_follow_the_kafka_binding_and_round_trip():
    env = new_envelope(
        VALIDATED, source="driftline/validation", actor="service:validation", cause=root()
    )
    headers = to_headers(env)
    names = [name for name, _ in headers]
    assert names == [
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_time",
        "ce_subject",
        "ce_correlationid",
        "ce_actor",
        "ce_causationid",
        "content-type",
    ]
    assert dict(headers)["content-type"] == b"application/json"
    assert dict(headers)["ce_time"].endswith(b"Z")
    assert from_headers(headers) == env


def test_root_events_carry_no_causation_header():
    assert "ce_causationid" not in dict(to_headers(root()))


def test_time_is_normalised_to_utc():
    plus_two = datetime(2025, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    env = root().model_copy(update={"time": plus_two})
    decoded = from_headers(to_headers(env))
    assert decoded.time == plus_two
    assert decoded.time.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "missing",
    [
        "ce_id",
        "ce_type",
        "ce_subject",
        "ce_correlationid",
        "ce_actor",
        "ce_specversion",
        "ce_time",
        "ce_source",
    ],
)
def test_each_missing_header_is_named(missing):
    headers = [(n, v) for n, v in to_headers(root()) if n != missing]
    with pytest.raises(MissingHeader, match=missing) as caught:
        from_headers(headers)
    assert caught.value.header == missing


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("ce_specversion", b"0.3", "specversion"),
        ("ce_time", b"yesterday", "ce_time"),
        ("ce_time", b"2025-01-01T00:00:00", "ce_time"),
        ("ce_actor", b"alice", "ce_actor"),
        ("ce_subject", b"Not a slug", "ce_subject"),
        ("ce_id", b"\xff\xfe", "UTF-8"),
        ("content-type", b"application/avro", "content-type"),
    ],
)
def test_garbled_headers_are_malformed(name, value, reason):
    headers = [(n, value if n == name else v) for n, v in to_headers(root())]
    with pytest.raises(MalformedHeader, match=reason):
        from_headers(headers)


def test_conflicting_duplicate_headers_are_refused():
    headers = [*to_headers(root()), ("ce_type", b"io.driftline.data.rejected.v1")]
    with pytest.raises(MalformedHeader, match="twice"):
        from_headers(headers)


@pytest.mark.parametrize("headers", [None, 42, "ce_id", [("ce_id",)], [(1, b"x")], [("ce_id", 5)]])
def test_nonsense_header_containers_are_contract_errors(headers):
    with pytest.raises(ContractError):
        from_headers(headers)


def test_str_headers_and_mappings_are_accepted():
    env = root()
    as_text = {name: value.decode() for name, value in to_headers(env)}
    assert from_headers(as_text) == env


OFFSETS = st.builds(
    timezone,
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=59), max_value=timedelta(hours=23, minutes=59)
    ),
)


@settings(max_examples=100, deadline=None)
@given(moment=st.datetimes(timezones=OFFSETS) | st.datetimes())
def test_any_timestamp_header_decodes_to_utc_or_is_malformed(moment):
    headers = [
        (n, moment.isoformat().encode() if n == "ce_time" else v) for n, v in to_headers(root())
    ]
    try:
        env = from_headers(headers)
    except MalformedHeader:
        return
    assert env.time == moment
    assert env.time.utcoffset() == timedelta(0)
