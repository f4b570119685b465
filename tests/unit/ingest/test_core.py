"""Catalog decisions: versions by content, checked pipeline arrivals, announced uploads."""

from __future__ import annotations

from driftline.ingest.core import admit_arrival, catalog_arrival, catalog_upload
from driftline.ingest.models import Arrival, ObjectFacts, Upload
from tests.unit.ingest.fakes import FakeAnnouncer, FakeCatalog, FakeObjects, FakeRejections

SHA_A, SHA_B = "a" * 64, "b" * 64
URI_A = "s3://driftline/lake/churn-a.csv"


def arrival(sha: str = SHA_A, uri: str = URI_A, size: int | None = None, eid: str = "e1"):
    return Arrival(
        name="churn", sha256=sha, uri=uri, format="csv", size_bytes=size, rows=None,
        source="pipeline/etl", actor="pipeline:etl", event_id=eid,
    )  # fmt: skip


def upload(sha: str = SHA_A) -> Upload:
    return Upload(
        name="churn", sha256=sha, uri=f"s3://driftline/datasets/churn/{sha}.csv",
        format="csv", size_bytes=10, rows=2, actor="user:alice",
    )  # fmt: skip


async def admit(a: Arrival, catalog: FakeCatalog, objects: FakeObjects, rejected: FakeRejections):
    return await admit_arrival(a, catalog=catalog, objects=objects, rejected=rejected)


async def test_same_bytes_are_one_upload_new_bytes_the_next() -> None:
    catalog = FakeCatalog()
    first, new1 = await catalog_arrival(catalog, arrival())
    again, new2 = await catalog_arrival(catalog, arrival(eid="e2"))
    second, new3 = await catalog_arrival(catalog, arrival(SHA_B, eid="e3"))
    assert (first.upload, new1, again.upload, new2, second.upload, new3) == (
        1, True, 1, False, 2, True,
    )  # fmt: skip
    assert again.event_id == "e1"


async def test_new_upload_is_announced_once_and_records_the_uploader() -> None:
    catalog, announcer = FakeCatalog(), FakeAnnouncer()
    version, new = await catalog_upload(catalog, announcer, upload())
    again, new_again = await catalog_upload(catalog, announcer, upload())
    assert new
    assert not new_again
    assert again == version
    assert len(announcer.announced) == 1
    assert version.event_id == "evt-1"
    assert version.uploaded_by == "user:alice"
    assert version.actor == "user:alice"
    assert version.source == "driftline/ingest"
    assert (version.rows, version.size_bytes) == (2, 10)


async def test_checked_arrival_is_catalogued_with_the_stored_size() -> None:
    catalog, rejected = FakeCatalog(), FakeRejections()
    objects = FakeObjects({URI_A: ObjectFacts(SHA_A, 1234)})
    admission = await admit(arrival(), catalog, objects, rejected)
    assert admission.new
    assert admission.version is not None
    assert admission.version.size_bytes == 1234
    assert admission.version.uploaded_by is None
    assert rejected.rows == []


async def test_foreign_uri_is_rejected_without_touching_the_store() -> None:
    catalog, rejected, objects = FakeCatalog(), FakeRejections(), FakeObjects()
    admission = await admit(arrival(uri="s3://elsewhere/x.csv"), catalog, objects, rejected)
    assert admission.version is None
    assert admission.rejection is not None
    assert admission.rejection.code == "uri_not_allowed"
    assert "elsewhere" in admission.rejection.message
    assert objects.stats == 0
    assert catalog.versions == []
    assert [r.code for _, r in rejected.rows] == ["uri_not_allowed"]


async def test_missing_object_is_rejected() -> None:
    rejected = FakeRejections()
    admission = await admit(arrival(), FakeCatalog(), FakeObjects(), rejected)
    assert admission.rejection is not None
    assert admission.rejection.code == "object_not_found"
    assert rejected.rows[0][0].event_id == "e1"


async def test_wrong_sha256_is_rejected_naming_both_digests() -> None:
    catalog = FakeCatalog()
    objects = FakeObjects({URI_A: ObjectFacts(SHA_B, 10)})
    admission = await admit(arrival(), catalog, objects, FakeRejections())
    assert admission.rejection is not None
    assert admission.rejection.code == "sha256_mismatch"
    assert SHA_A in admission.rejection.message
    assert SHA_B in admission.rejection.message
    assert catalog.versions == []


async def test_wrong_announced_size_is_rejected() -> None:
    objects = FakeObjects({URI_A: ObjectFacts(SHA_A, 10)})
    admission = await admit(arrival(size=11), FakeCatalog(), objects, FakeRejections())
    assert admission.rejection is not None
    assert admission.rejection.code == "size_mismatch"


async def test_known_bytes_are_not_rehashed() -> None:
    catalog, objects = FakeCatalog(), FakeObjects({URI_A: ObjectFacts(SHA_A, 10)})
    await admit(arrival(), catalog, objects, FakeRejections())
    again = await admit(arrival(eid="e2"), catalog, objects, FakeRejections())
    assert again.version is not None
    assert (again.version.upload, again.new) == (1, False)
    assert objects.stats == 1
