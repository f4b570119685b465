"""Data in: uploads and pipeline arrivals through the ingest service on the real local stack.

The service runs in-process (its FastAPI app over ``httpx.ASGITransport``) against the
stack's broker, PostgreSQL and S3; uploads are announced through the outbox, pipeline
arrivals are checked against the object store before they are catalogued.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from minio import Minio

from driftline.ingest.adapters.rejections import PostgresRejectedArrivals
from driftline.ingest.app import definition
from driftline.ingest.settings import IngestSettings
from driftline.runtime.http import build_http_app
from driftline.runtime.service import ServiceRuntime
from driftline_contracts import topics
from driftline_contracts.events.data import DataArrived
from driftline_contracts.publish import publish
from driftline_contracts.values import DatasetRef
from tests.integration.kafka_helpers import environment, header, read_all, read_topic
from tests.tokens import as_user, stack_headers, with_users

ALICE = ("user:alice", "publisher")
pytestmark = pytest.mark.integration
LIMIT = 64 * 1024
CSV = b"a,b\n1,2\n3,4\n5,6\n"


class Ingest:
    """The running ingest service and an HTTP client on its app."""

    def __init__(self, runtime: ServiceRuntime, http: httpx.AsyncClient, bootstrap: str) -> None:
        self.runtime = runtime
        self.http = http
        self.bootstrap = bootstrap

    async def rejections(self, name: str, *, timeout_s: float = 30) -> list[dict]:
        """Rejected arrivals of ``name`` once there is one (fails on timeout)."""
        async with asyncio.timeout(timeout_s):
            while True:
                async with self.runtime.units() as uow:
                    rows = await PostgresRejectedArrivals(uow.session).of(name)
                if rows:
                    return rows
                await asyncio.sleep(0.2)  # polling PostgreSQL: there is no event to wait on

    async def versions(self, name: str, *, timeout_s: float = 30) -> list[dict]:
        """Catalogued versions of ``name`` once there is one (fails on timeout)."""
        async with asyncio.timeout(timeout_s):
            while (response := await self.http.get(f"/v1/datasets/{name}/versions")).status_code:
                if response.status_code == 200:
                    return response.json()
                await asyncio.sleep(0.2)
        raise AssertionError("unreachable")


@pytest.fixture(scope="module")
async def ingest(local_stack) -> AsyncIterator[Ingest]:
    """The ingest service on the stack, with a 64 KiB upload limit."""
    env = {
        **with_users(local_stack.env(), ALICE),
        "DRIFTLINE_INGEST__MAX_UPLOAD_BYTES": str(LIMIT),
    }
    with environment(env):
        settings = IngestSettings()
    runtime = ServiceRuntime(definition(), settings)
    app = build_http_app(runtime)
    await runtime.start()  # ASGITransport does not run the lifespan
    transport = httpx.ASGITransport(app=app)
    publisher = stack_headers(local_stack, "publisher")
    async with httpx.AsyncClient(
        transport=transport, base_url="http://ingest", headers=publisher
    ) as http:
        yield Ingest(runtime, http, settings.kafka.bootstrap_servers)
    await runtime.stop()


@pytest.fixture(scope="module")
def minio(local_stack) -> Minio:
    """A plain S3 client on the stack, playing the pipeline that writes objects."""
    return Minio(
        local_stack.s3_endpoint, access_key=local_stack.s3_access_key,
        secret_key=local_stack.s3_secret_key, secure=False, region="us-east-1",
    )  # fmt: skip


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def arrivals_of(name: str):
    return lambda record: header(record, "ce_subject") == name


async def test_upload_journey_new_then_same_bytes(ingest: Ingest) -> None:
    name, sha = unique("upload"), hashlib.sha256(CSV).hexdigest()
    headers = {"Content-Type": "text/csv", **as_user(*ALICE)}
    first = await ingest.http.post(f"/v1/datasets/{name}", content=CSV, headers=headers)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["upload"], body["sha256"], body["rows"], body["new"]) == (1, sha, 3, True)
    assert body["version"] is None  # validation gives the version, not the upload
    assert body["uploaded_by"] == "user:alice"
    assert body["uri"].endswith(f"/datasets/{name}/{sha}.csv")
    assert (await ingest.runtime.store.stat(body["uri"])).sha256 == sha

    (record,) = await read_topic(ingest.bootstrap, topics.DATA_ARRIVED, arrivals_of(name))
    event = json.loads(record.value)
    assert event["dataset"]["sha256"] == sha
    assert event["dataset"]["uri"] == body["uri"]
    assert header(record, "ce_id") == body["event_id"]
    assert header(record, "ce_actor") == "user:alice"

    again = await ingest.http.post(f"/v1/datasets/{name}", content=CSV, headers=headers)
    assert again.status_code == 200
    assert (again.json()["upload"], again.json()["new"]) == (1, False)
    assert len(await read_all(ingest.bootstrap, topics.DATA_ARRIVED, arrivals_of(name))) == 1

    one = await ingest.http.get(f"/v1/datasets/{name}/uploads/1")
    assert one.status_code == 200
    assert one.json()["validation_status"] is None
    missing = await ingest.http.get(f"/v1/datasets/{name}/uploads/2")
    assert missing.status_code == 404
    assert "no upload 2" in missing.json()["detail"]
    unvalidated = await ingest.http.get(f"/v1/datasets/{name}/versions/1")
    assert unvalidated.status_code == 404
    assert "no version 1 (latest is -)" in unvalidated.json()["detail"]


async def test_parquet_upload_rows_from_footer_is_the_next_upload(ingest: Ingest) -> None:
    name, buffer = unique("parquet"), io.BytesIO()
    await ingest.http.post(
        f"/v1/datasets/{name}", content=CSV, headers={"Content-Type": "text/csv"}
    )
    pq.write_table(pa.table({"a": list(range(500))}), buffer)
    response = await ingest.http.post(
        f"/v1/datasets/{name}?format=parquet",
        content=buffer.getvalue(),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["upload"], body["rows"], body["format"], body["uploaded_by"]) == (
        2, 500, "parquet", "user:publisher",  # the token names the uploader
    )  # fmt: skip


async def test_uploads_past_the_limit_are_refused_and_nothing_is_stored(ingest: Ingest) -> None:
    name, big = unique("big"), b"x" * (LIMIT + 1)
    key = f"datasets/{name}/{hashlib.sha256(big).hexdigest()}.csv"

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: the spool must stop it
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    for content in (big, streamed()):
        response = await ingest.http.post(
            f"/v1/datasets/{name}", content=content, headers={"Content-Type": "text/csv"}
        )
        assert response.status_code == 413
        assert str(LIMIT) in response.json()["detail"]
    assert not await ingest.runtime.store.exists(ingest.runtime.store.uri_for(key))
    assert (await ingest.http.get(f"/v1/datasets/{name}/versions")).status_code == 404


@pytest.mark.parametrize(
    ("content", "headers", "detail"),
    [
        (b"", {"Content-Type": "text/csv"}, "empty"),
        (CSV, {"Content-Type": "application/octet-stream"}, "format"),
        (CSV, {"Content-Type": "application/vnd.apache.parquet"}, "Parquet"),
    ],
)
async def test_bad_uploads_are_422_with_a_reason(
    ingest: Ingest, content: bytes, headers: dict[str, str], detail: str
) -> None:
    response = await ingest.http.post(
        f"/v1/datasets/{unique('bad')}", content=content, headers=headers
    )
    assert response.status_code == 422
    assert detail in response.json()["detail"]


async def test_the_token_names_the_uploader_not_a_header(ingest: Ingest) -> None:
    headers = {"Content-Type": "text/csv", "X-Driftline-Actor": "user:mallory"}
    response = await ingest.http.post(f"/v1/datasets/{unique('who')}", content=CSV, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["uploaded_by"] == "user:publisher"  # the stack publisher's token
    bare = ingest.http.build_request("POST", f"/v1/datasets/{unique('anon')}", content=CSV,
                                     headers=headers)  # fmt: skip
    del bare.headers["Authorization"]
    assert (await ingest.http.send(bare)).status_code == 401


async def _announce(ingest: Ingest, name: str, uri: str, sha: str) -> None:
    event = DataArrived(dataset=DatasetRef(name=name, uri=uri, sha256=sha, format="csv"))
    await publish(event, bootstrap_servers=ingest.bootstrap, source="pipeline/test",
                  actor="pipeline:test")  # fmt: skip


async def test_pipeline_arrival_of_a_stored_object_is_catalogued(
    ingest: Ingest, minio: Minio
) -> None:
    name = unique("pipeline")
    key = f"lake/{name}.csv"
    await asyncio.to_thread(minio.put_object, "driftline", key, io.BytesIO(CSV), len(CSV))
    await _announce(ingest, name, f"s3://driftline/{key}", hashlib.sha256(CSV).hexdigest())
    (version,) = await ingest.versions(name)
    assert (version["upload"], version["actor"], version["size_bytes"]) == (
        1, "pipeline:test", len(CSV),
    )  # fmt: skip
    assert version["uploaded_by"] is None


async def test_pipeline_arrivals_outside_the_bucket_or_with_wrong_sha_are_rejected(
    ingest: Ingest, minio: Minio
) -> None:
    foreign, wrong = unique("foreign"), unique("wrongsha")
    key = f"lake/{wrong}.csv"
    await asyncio.to_thread(minio.put_object, "driftline", key, io.BytesIO(CSV), len(CSV))
    await _announce(ingest, foreign, "s3://elsewhere/lake/x.csv", "0" * 64)
    await _announce(ingest, wrong, f"s3://driftline/{key}", "f" * 64)
    (refused,) = await ingest.rejections(foreign)
    assert refused["code"] == "uri_not_allowed"
    assert "elsewhere" in refused["reason"]
    (mismatch,) = await ingest.rejections(wrong)
    assert mismatch["code"] == "sha256_mismatch"
    for name in (foreign, wrong):
        assert (await ingest.http.get(f"/v1/datasets/{name}/versions")).status_code == 404
