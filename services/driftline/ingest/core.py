"""Catalog decisions: the same bytes are the same upload; new bytes get the next upload number.

Pipeline arrivals are admitted only when their URI is one Driftline may read and the object
there has the announced sha256; anything else is recorded as a rejected arrival.
"""

from __future__ import annotations

from dataclasses import replace

from driftline.ingest.models import (
    Admission,
    Arrival,
    DatasetVersion,
    ForeignUri,
    MissingObject,
    ObjectFacts,
    Rejection,
    Upload,
)
from driftline.ingest.ports import (
    DatasetCatalog,
    DatasetObjects,
    RejectedArrivals,
    UploadAnnouncer,
)

__all__ = ["Arrival", "DatasetVersion", "Upload", "admit_arrival", "catalog_upload"]


async def catalog_arrival(catalog: DatasetCatalog, arrival: Arrival) -> tuple[DatasetVersion, bool]:
    """Record ``arrival`` under the next upload number; returns it and whether it is new."""
    existing = await catalog.find(arrival.name, arrival.sha256)
    if existing is not None:
        return existing, False
    version = DatasetVersion(
        name=arrival.name,
        upload=await catalog.latest_upload(arrival.name) + 1,
        sha256=arrival.sha256,
        uri=arrival.uri,
        format=arrival.format,
        size_bytes=arrival.size_bytes,
        rows=arrival.rows,
        source=arrival.source,
        actor=arrival.actor,
        event_id=arrival.event_id,
        uploaded_by=arrival.uploaded_by,
    )
    await catalog.add(version)
    return version, True


async def catalog_upload(
    catalog: DatasetCatalog, announcer: UploadAnnouncer, upload: Upload
) -> tuple[DatasetVersion, bool]:
    """Catalogue an upload; only new bytes are announced (one DataArrived per version)."""
    existing = await catalog.find(upload.name, upload.sha256)
    if existing is not None:
        return existing, False
    announced = await announcer.data_arrived(upload)
    arrival = Arrival(
        name=upload.name,
        sha256=upload.sha256,
        uri=upload.uri,
        format=upload.format,
        size_bytes=upload.size_bytes,
        rows=upload.rows,
        source=announced.source,
        actor=upload.actor,
        event_id=announced.event_id,
        uploaded_by=upload.actor,
    )
    return await catalog_arrival(catalog, arrival)


async def check_object(objects: DatasetObjects, arrival: Arrival) -> ObjectFacts | Rejection:
    """The object's facts when it matches what was announced, else why it does not."""
    try:
        facts = await objects.facts(arrival.uri)
    except ForeignUri as exc:
        return Rejection("uri_not_allowed", str(exc))
    except MissingObject:
        return Rejection("object_not_found", f"no object at {arrival.uri}")
    if facts.sha256 != arrival.sha256:
        return Rejection(
            "sha256_mismatch",
            f"announced sha256 {arrival.sha256} but the object has {facts.sha256}",
        )
    if arrival.size_bytes is not None and facts.size_bytes != arrival.size_bytes:
        return Rejection(
            "size_mismatch",
            f"announced {arrival.size_bytes} bytes but the object has {facts.size_bytes}",
        )
    return facts


async def admit_arrival(
    arrival: Arrival,
    *,
    catalog: DatasetCatalog,
    objects: DatasetObjects,
    rejected: RejectedArrivals,
) -> Admission:
    """Catalogue a pipeline's arrival once its object checks out; else record why not."""
    problem = objects.uri_problem(arrival.uri)
    if problem is not None:
        return await _reject(rejected, arrival, Rejection("uri_not_allowed", problem))
    existing = await catalog.find(arrival.name, arrival.sha256)
    if existing is not None:  # e.g. the DataArrived of our own upload coming back
        return Admission(version=existing, new=False)
    checked = await check_object(objects, arrival)
    if isinstance(checked, Rejection):
        return await _reject(rejected, arrival, checked)
    version, new = await catalog_arrival(catalog, replace(arrival, size_bytes=checked.size_bytes))
    return Admission(version=version, new=new)


async def _reject(rejected: RejectedArrivals, arrival: Arrival, rejection: Rejection) -> Admission:
    await rejected.add(arrival, rejection)
    return Admission(rejection=rejection)
