"""The data-in journey across three services: an upload through ingest's HTTP API is validated
by the validation service, the verdict comes back to the catalog, and training trains on it
under the same version number the catalog shows."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from rich.console import Console

from driftline.cli.demo_data import breast_cancer_csv, breast_cancer_frame, corrupted
from driftline.cli.ingest import versions_table
from driftline.ingest.app import definition as ingest_definition
from driftline.ingest.settings import IngestSettings
from driftline.runtime.http import build_http_app
from driftline.runtime.service import ServiceRuntime
from driftline.training.adapters.postgres import PostgresTrainingRepository
from driftline.training.app import definition as training_definition
from driftline.training.settings import TrainingSettings
from driftline.validation.app import definition as validation_definition
from driftline.validation.settings import ValidationSettings
from driftline_contracts import topics
from driftline_contracts.codec import decode
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.events.training import ModelTrained
from driftline_contracts.modelspec import ModelSpec, spec_hash
from tests.integration.kafka_helpers import environment, header, read_topic
from tests.signing import publish_signed
from tests.tokens import stack_headers

pytestmark = [pytest.mark.integration, pytest.mark.slow]


TRAINING: dict[str, ServiceRuntime] = {}


@pytest.fixture(scope="module")
async def services(local_stack) -> AsyncIterator[httpx.AsyncClient]:
    """Ingest, validation and training in-process; yields an HTTP client for ingest."""
    with environment({**local_stack.env(), "DRIFTLINE_TRAINING__POLL_INTERVAL_S": "0.2"}):
        ingest = ServiceRuntime(ingest_definition(), IngestSettings())
        validation = ServiceRuntime(validation_definition(), ValidationSettings())
        training = ServiceRuntime(training_definition(), TrainingSettings())
    TRAINING["runtime"] = training
    await asyncio.gather(ingest.start(), validation.start(), training.start())
    transport = httpx.ASGITransport(app=build_http_app(ingest))
    publisher = stack_headers(local_stack, "publisher")
    async with httpx.AsyncClient(
        transport=transport, base_url="http://ingest", headers=publisher
    ) as http:
        yield http
    await asyncio.gather(ingest.stop(), validation.stop(), training.stop())


async def _upload(http: httpx.AsyncClient, name: str, body: bytes) -> dict:
    response = await http.post(
        f"/v1/datasets/{name}",
        content=body,
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _statuses(http: httpx.AsyncClient, name: str, want: list[str]) -> list[dict]:
    async with asyncio.timeout(60):
        while True:
            versions = (await http.get(f"/v1/datasets/{name}/versions")).json()
            if [v["validation_status"] for v in versions] == want:
                return versions
            await asyncio.sleep(0.3)


async def test_upload_is_validated_and_corrupted_variant_rejected(services, local_stack) -> None:
    name = f"cancer-{uuid.uuid4().hex[:6]}"
    good = await _upload(services, name, breast_cancer_csv())

    def caused_by(event_id: str):  # type: ignore[no-untyped-def]
        return lambda record: header(record, "ce_causationid") == event_id

    (validated,) = await read_topic(
        local_stack.kafka_bootstrap,
        topics.DATA_VALIDATED,
        caused_by(good["event_id"]),
        timeout_s=60,
    )
    body = json.loads(validated.value)
    assert body["dataset"]["sha256"] == good["sha256"]
    assert body["dataset"]["version"] == 1
    assert header(validated, "ce_correlationid") == good["event_id"]

    bad = await _upload(services, name, corrupted(breast_cancer_csv()))
    (rejected,) = await read_topic(
        local_stack.kafka_bootstrap, topics.DATA_REJECTED, caused_by(bad["event_id"]), timeout_s=60
    )
    codes = {(r["code"], r.get("field")) for r in json.loads(rejected.value)["reasons"]}
    assert ("missing_column", "mean_radius") in codes
    assert ("null_rate", "mean_texture") in codes
    assert ("out_of_range", "mean_area") in codes

    versions = await _statuses(services, name, ["validated", "rejected"])
    assert versions[0]["profile_uri"] == body["profile"]["uri"]
    assert versions[0]["report_uri"] == body["report"]["uri"]
    assert versions[1]["report_uri"] == json.loads(rejected.value)["report"]["uri"]
    assert versions[1]["report_uri"].endswith(".html")


async def _apply_spec(local_stack, model: str, dataset: str) -> None:
    """Publish the model's spec and wait until training keeps it."""
    spec = ModelSpec(
        model=model, dataset=dataset, target="target", task="classification",
        trainer={"estimator": "sklearn.ensemble.RandomForestClassifier",
                 "params": {"n_estimators": 10, "max_depth": 3}},
    )  # fmt: skip
    event = ModelSpecApplied(
        model=model, dataset=dataset, task="classification", target="target",
        trainer="sklearn.random_forest", spec_hash=spec_hash(spec),
        spec=spec.model_dump(mode="json"),
    )  # fmt: skip
    await publish_signed(local_stack, event, source="test/journey", actor="user:test")
    async with asyncio.timeout(60):
        while True:
            async with TRAINING["runtime"].units() as uow:
                if await PostgresTrainingRepository(uow.session).spec(model) is not None:
                    return
            await asyncio.sleep(0.2)


async def _trained_on(local_stack, model: str, sha256: str) -> ModelTrained:
    def on_these_bytes(record) -> bool:  # type: ignore[no-untyped-def]
        if header(record, "ce_subject") != model:
            return False
        event = decode(record.headers, record.value)[1]
        return isinstance(event, ModelTrained) and event.dataset.sha256 == sha256

    (record,) = await read_topic(
        local_stack.kafka_bootstrap, topics.MODEL_TRAINED, on_these_bytes, timeout_s=180
    )
    trained = decode(record.headers, record.value)[1]
    assert isinstance(trained, ModelTrained)
    return trained


async def test_after_a_rejected_upload_every_surface_names_the_same_version(
    services, local_stack
) -> None:
    """Upload 1 accepted, upload 2 rejected, upload 3 accepted: version 2 in the catalog (and
    the CLI's table), in DataValidated and in ModelTrained; the rejected upload has none."""
    name = f"versions-{uuid.uuid4().hex[:6]}"
    model = f"{name}-clf"
    await _apply_spec(local_stack, model, name)
    await _upload(services, name, breast_cancer_csv())
    await _statuses(services, name, ["validated"])
    await _upload(services, name, corrupted(breast_cancer_csv()))
    await _statuses(services, name, ["validated", "rejected"])
    again = breast_cancer_frame().iloc[::-1].to_csv(index=False).encode()  # new bytes, same data
    third = await _upload(services, name, again)
    assert (third["upload"], third["version"]) == (3, None)

    (validated,) = await read_topic(
        local_stack.kafka_bootstrap, topics.DATA_VALIDATED,
        lambda r: header(r, "ce_causationid") == third["event_id"], timeout_s=60,
    )  # fmt: skip
    assert json.loads(validated.value)["dataset"]["version"] == 2
    assert json.loads(validated.value)["baseline_version"] == 1

    rows = await _statuses(services, name, ["validated", "rejected", "validated"])
    assert [(r["upload"], r["version"]) for r in rows] == [(1, 1), (2, None), (3, 2)]
    summary = next(d for d in (await services.get("/v1/datasets")).json() if d["name"] == name)
    assert (summary["uploads"], summary["versions"], summary["latest_version"]) == (3, 2, 2)
    assert (await services.get(f"/v1/datasets/{name}/versions/2")).json()["upload"] == 3

    shown = Console(width=200, record=True)
    shown.print(versions_table(rows))
    lines = shown.export_text().splitlines()
    cells = [c.strip() for c in next(x for x in lines if third["sha256"][:12] in x).split("│")]
    assert cells[1:3] == ["3", "2"], lines  # `driftline datasets versions`: upload 3 is v2

    trained = await _trained_on(local_stack, model, third["sha256"])
    assert trained.dataset.version == 2
    assert {ref.version for ref in trained.datasets} <= {1, 2}
