"""The data-in journey across two services: an upload through ingest's HTTP API is validated
by the validation service, and the verdict comes back to the catalog."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from driftline.cli.demo_data import breast_cancer_csv, corrupted
from driftline.ingest.app import definition as ingest_definition
from driftline.ingest.settings import IngestSettings
from driftline.runtime.http import build_http_app
from driftline.runtime.service import ServiceRuntime
from driftline.validation.app import definition as validation_definition
from driftline.validation.settings import ValidationSettings
from driftline_contracts import topics
from tests.integration.kafka_helpers import environment, header, read_topic
from tests.tokens import stack_headers

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
async def services(local_stack) -> AsyncIterator[httpx.AsyncClient]:
    """Ingest and validation running in-process; yields an HTTP client for ingest."""
    with environment(local_stack.env()):
        ingest = ServiceRuntime(ingest_definition(), IngestSettings())
        validation = ServiceRuntime(validation_definition(), ValidationSettings())
    await asyncio.gather(ingest.start(), validation.start())
    transport = httpx.ASGITransport(app=build_http_app(ingest))
    publisher = stack_headers(local_stack, "publisher")
    async with httpx.AsyncClient(
        transport=transport, base_url="http://ingest", headers=publisher
    ) as http:
        yield http
    await asyncio.gather(ingest.stop(), validation.stop())


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
