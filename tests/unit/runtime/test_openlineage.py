"""OpenLineage run events for validation runs, through the official client's file transport."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from driftline.runtime.openlineage import LineageEmitter, run_id_for
from driftline.runtime.settings import OpenLineageSettings
from driftline.validation.lineage import ValidationRun
from driftline_contracts.events.data import DataRejected
from driftline_contracts.values import DatasetRef, Reason

DATASET = DatasetRef(name="churn", uri="s3://lake/churn/2026-11.csv", sha256="a" * 64, format="csv")


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_rejected_validation_sends_start_then_fail_with_the_reasons(tmp_path: Path) -> None:
    path = tmp_path / "lineage.jsonl"
    emitter = LineageEmitter(OpenLineageSettings(transport="file", file_path=str(path)))
    run = ValidationRun(emitter, DATASET, cause_id="event-1")
    await run.started()
    rejected = DataRejected(
        dataset=DATASET,
        models=[],
        reasons=[Reason(code="missing_column", message="expected tenure", field="tenure")],
    )
    await run.finished(rejected)
    start, fail = _events(path)
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    assert start["run"]["runId"] == fail["run"]["runId"] == run_id_for("validation:event-1")
    uuid.UUID(start["run"]["runId"])
    assert (
        start["job"] == {"namespace": "driftline", "name": "validation.churn", "facets": {}}
        or start["job"]["name"] == "validation.churn"
    )
    assert start["inputs"][0]["namespace"] == "s3://lake"
    assert start["inputs"][0]["name"] == "churn/2026-11.csv"
    assert "missing_column" in fail["run"]["facets"]["errorMessage"]["message"]
    assert start["schemaURL"].startswith("https://openlineage.io/spec/")
    assert start["eventTime"].endswith("+00:00")


async def test_accepted_validation_completes(tmp_path: Path) -> None:
    path = tmp_path / "lineage.jsonl"
    emitter = LineageEmitter(OpenLineageSettings(transport="file", file_path=str(path)))
    run = ValidationRun(emitter, DATASET, cause_id="event-2")
    await run.started()
    await run.finished(None)
    assert [e["eventType"] for e in _events(path)] == ["START", "COMPLETE"]


async def test_disabled_by_default_and_a_dead_backend_never_fails_the_run() -> None:
    assert not LineageEmitter(OpenLineageSettings()).enabled
    dead = LineageEmitter(OpenLineageSettings(transport="http", url="http://127.0.0.1:9"))
    await dead.emit("START", job="validation.churn", run_id=run_id_for("x"))
