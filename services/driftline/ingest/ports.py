"""What the catalog core needs from the outside world, by role."""

from __future__ import annotations

from typing import Protocol

from driftline.ingest.models import (
    Announced,
    Arrival,
    DatasetVersion,
    ObjectFacts,
    Rejection,
    Upload,
)


class DatasetCatalog(Protocol):
    """Where catalogued uploads are kept."""

    async def find(self, name: str, sha256: str) -> DatasetVersion | None: ...
    async def latest_upload(self, name: str) -> int: ...
    async def add(self, version: DatasetVersion) -> None: ...


class RejectedArrivals(Protocol):
    """Where refused pipeline arrivals are recorded."""

    async def add(self, arrival: Arrival, rejection: Rejection) -> None: ...


class DatasetObjects(Protocol):
    """Read-only facts about dataset objects in the store."""

    def uri_problem(self, uri: str) -> str | None: ...
    async def facts(self, uri: str) -> ObjectFacts: ...


class UploadAnnouncer(Protocol):
    """Tells the platform a dataset arrived (outbound port)."""

    async def data_arrived(self, upload: Upload) -> Announced: ...
