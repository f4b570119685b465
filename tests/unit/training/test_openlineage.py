"""OpenLineage run events of training runs, written by the official client's file transport.

openlineage-python 1.54 ships no copy of the OpenLineage JSON Schema (its classes are
generated from it and carry only the schema URL), so ``RUN_EVENT`` below transcribes the
required structure of ``spec/2-0-2/OpenLineage.json#/$defs/RunEvent``; every event is also
rebuilt through the client's own validating classes.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import jsonschema
import pytest
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.serde import Serde

from driftline.runtime.openlineage import LineageEmitter, run_id_for
from driftline.runtime.settings import OpenLineageSettings
from driftline.runtime.storage.local import LocalArtifactStore
from driftline.training.openlineage import model_location
from tests.unit.training.test_worker import _dataset, _job, _setup

DATASET_REF = {
    "type": "object",
    "required": ["namespace", "name"],
    "properties": {
        "namespace": {"type": "string"},
        "name": {"type": "string"},
        "facets": {"type": "object"},
    },
}
FACET = {
    "type": "object",
    "required": ["_producer", "_schemaURL"],
    "properties": {
        "_producer": {"type": "string", "format": "uri"},
        "_schemaURL": {"type": "string", "format": "uri"},
    },
}
RUN_EVENT = {
    "type": "object",
    "required": ["eventTime", "producer", "schemaURL", "run", "job"],
    "properties": {
        "eventTime": {"type": "string", "format": "date-time"},
        "producer": {"type": "string", "format": "uri"},
        "schemaURL": {"type": "string", "format": "uri"},
        "eventType": {
            "enum": ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"],
        },
        "run": {
            "type": "object",
            "required": ["runId"],
            "properties": {
                "runId": {"type": "string", "format": "uuid"},
                "facets": {"type": "object", "additionalProperties": FACET},
            },
        },
        "job": {
            "type": "object",
            "required": ["namespace", "name"],
            "properties": {"namespace": {"type": "string"}, "name": {"type": "string"}},
        },
        "inputs": {"type": "array", "items": DATASET_REF},
        "outputs": {"type": "array", "items": DATASET_REF},
    },
}


def _valid(event: dict) -> dict:
    """The event, once it passed the schema and a rebuild through the client's classes."""
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    jsonschema.validate(event, RUN_EVENT, format_checker=checker)
    assert event["schemaURL"].startswith("https://openlineage.io/spec/2-0-2/OpenLineage.json")
    rebuilt = RunEvent(
        eventType=RunState(event["eventType"]),
        eventTime=event["eventTime"],
        producer=event["producer"],
        run=Run(runId=event["run"]["runId"]),
        job=Job(namespace=event["job"]["namespace"], name=event["job"]["name"]),
        inputs=[InputDataset(namespace=d["namespace"], name=d["name"]) for d in event["inputs"]],
        outputs=[OutputDataset(namespace=d["namespace"], name=d["name"]) for d in event["outputs"]],
    )
    shape = Serde.to_dict(rebuilt)
    assert {k: v for k, v in event.items() if k not in ("run", "job")} == {
        k: v for k, v in shape.items() if k not in ("run", "job")
    }
    return event


def _events(path: Path) -> list[dict]:
    return [_valid(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "store")


async def test_a_trained_model_sends_start_then_complete_with_data_in_and_model_out(
    tmp_path: Path, store: LocalArtifactStore
) -> None:
    path = tmp_path / "lineage.jsonl"
    worker, _, jobs = _setup(store)
    worker.lineage = LineageEmitter(OpenLineageSettings(transport="file", file_path=str(path)))
    dataset = await _dataset(store)
    job = jobs.add(_job(dataset))
    assert await worker.run_once()
    start, complete = _events(path)
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert start["run"]["runId"] == complete["run"]["runId"] == run_id_for(f"training:{job.run_id}")
    uuid.UUID(start["run"]["runId"])
    assert start["job"]["name"] == complete["job"]["name"] == "training.cancer-clf"
    assert start["job"]["namespace"] == "driftline"
    scheme, _, rest = dataset.uri.partition("://")
    expected_input = {
        "namespace": f"{scheme}://{rest.split('/')[0]}",
        "name": rest.split("/", 1)[1],
    }
    assert [{k: d[k] for k in ("namespace", "name")} for d in complete["inputs"]] == [
        expected_input
    ]
    (output,) = complete["outputs"]
    assert output["name"].endswith("models/cancer-clf")
    assert job.run_id not in output["name"]


async def test_a_failed_run_sends_fail_with_the_reason(
    tmp_path: Path, store: LocalArtifactStore
) -> None:
    path = tmp_path / "lineage.jsonl"
    worker, _, jobs = _setup(store)
    worker.lineage = LineageEmitter(OpenLineageSettings(transport="file", file_path=str(path)))
    jobs.add(_job(await _dataset(store), target="nope"))
    assert await worker.run_once()
    start, fail = _events(path)
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    message = fail["run"]["facets"]["errorMessage"]["message"]
    assert message.startswith("bad_target: ")
    assert fail["outputs"] == []


def test_the_model_is_named_without_run_or_file() -> None:
    uri = "s3://driftline/models/churn/run-1a2b/model.skops"
    assert model_location(uri, "churn") == ("s3://driftline", "models/churn")
    nested = "s3://lake/prefix/models/churn/run-9/model.skops"
    assert model_location(nested, "churn") == ("s3://lake", "prefix/models/churn")
