"""Catalog decisions: the same bytes are the same version; new bytes get the next number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class DatasetVersion:
    """One catalogued version of a dataset."""

    name: str
    version: int
    sha256: str
    uri: str
    format: str
    size_bytes: int | None
    rows: int | None
    source: str
    actor: str
    event_id: str
    created_at: datetime | None = None


@dataclass(frozen=True)
class Arrival:
    """A dataset object someone says has arrived."""

    name: str
    sha256: str
    uri: str
    format: str
    size_bytes: int | None
    rows: int | None
    source: str
    actor: str
    event_id: str


class DatasetCatalog(Protocol):
    """Where dataset versions are kept."""

    async def find(self, name: str, sha256: str) -> DatasetVersion | None: ...
    async def latest_version(self, name: str) -> int: ...
    async def add(self, version: DatasetVersion) -> None: ...


async def catalog_arrival(catalog: DatasetCatalog, arrival: Arrival) -> tuple[DatasetVersion, bool]:
    """Record ``arrival``; returns the version and whether it is new."""
    existing = await catalog.find(arrival.name, arrival.sha256)
    if existing is not None:
        return existing, False
    version = DatasetVersion(
        name=arrival.name,
        version=await catalog.latest_version(arrival.name) + 1,
        sha256=arrival.sha256,
        uri=arrival.uri,
        format=arrival.format,
        size_bytes=arrival.size_bytes,
        rows=arrival.rows,
        source=arrival.source,
        actor=arrival.actor,
        event_id=arrival.event_id,
    )
    await catalog.add(version)
    return version, True
