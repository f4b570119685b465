"""The checked-in JSON Schemas are the contract for non-Python producers and consumers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from driftline_contracts.catalog import EVENTS
from driftline_contracts.codec import encode
from driftline_contracts.envelope import new_envelope
from driftline_contracts.examples import examples

SCHEMAS = Path(__file__).resolve().parents[2] / "contracts" / "schemas"
SAMPLES = examples()


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("cls", EVENTS, ids=lambda c: c.__name__)
def test_what_python_publishes_is_valid_against_the_checked_in_schema(cls):
    record = encode(
        SAMPLES[cls.ce_type],
        new_envelope(SAMPLES[cls.ce_type], source="driftline/test", actor="service:test"),
    )
    errors = list(validator(f"{cls.ce_type}.json").iter_errors(json.loads(record.value)))
    assert errors == []


@pytest.mark.parametrize("cls", EVENTS, ids=lambda c: c.__name__)
def test_the_schema_refuses_unknown_fields_and_missing_required_ones(cls):
    check = validator(f"{cls.ce_type}.json")
    doc = json.loads(SAMPLES[cls.ce_type].model_dump_json())
    assert not check.is_valid({**doc, "unexpected": 1})
    required = check.schema.get("required", [])
    if required:
        assert not check.is_valid({k: v for k, v in doc.items() if k != required[0]})


def test_the_envelope_schema_accepts_a_real_envelope_and_names_every_header():
    env = new_envelope(
        SAMPLES["io.driftline.data.arrived.v1"],
        source="pipeline/etl",
        actor="pipeline:etl",
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        tracestate="vendor=opaque",
    )
    check = validator("envelope.json")
    assert list(check.iter_errors(env.model_dump(mode="json", exclude_none=True))) == []
    headers = check.schema["x-driftline"]["headers"]
    assert set(headers) == {
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_time",
        "ce_subject",
        "ce_correlationid",
        "ce_traceparent",
        "ce_tracestate",
        "ce_causationid",
        "ce_actor",
        "content-type",
    }


def test_a_sha256_that_python_refuses_the_schema_refuses_too():
    doc = json.loads(SAMPLES["io.driftline.data.arrived.v1"].model_dump_json())
    doc["dataset"]["sha256"] = "ABC"
    assert not validator("io.driftline.data.arrived.v1.json").is_valid(doc)
