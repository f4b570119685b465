"""In-memory stand-ins for the ingest ports."""

from __future__ import annotations

from dataclasses import dataclass, field

from driftline.ingest.models import (
    Announced,
    Arrival,
    DatasetVersion,
    MissingObject,
    ObjectFacts,
    Rejection,
    Upload,
)


@dataclass
class FakeCatalog:
    """Versions in a list."""

    versions: list[DatasetVersion] = field(default_factory=list)

    async def find(self, name: str, sha256: str) -> DatasetVersion | None:
        return next((v for v in self.versions if (v.name, v.sha256) == (name, sha256)), None)

    async def latest_upload(self, name: str) -> int:
        return max((v.upload for v in self.versions if v.name == name), default=0)

    async def add(self, version: DatasetVersion) -> None:
        self.versions.append(version)


@dataclass
class FakeRejections:
    """Rejections in a list."""

    rows: list[tuple[Arrival, Rejection]] = field(default_factory=list)

    async def add(self, arrival: Arrival, rejection: Rejection) -> None:
        self.rows.append((arrival, rejection))


@dataclass
class FakeObjects:
    """Objects by URI; URIs outside ``s3://driftline/`` are foreign."""

    objects: dict[str, ObjectFacts] = field(default_factory=dict)
    stats: int = 0

    def uri_problem(self, uri: str) -> str | None:
        return None if uri.startswith("s3://driftline/") else "bucket 'elsewhere' is not allowed"

    async def facts(self, uri: str) -> ObjectFacts:
        self.stats += 1
        if uri not in self.objects:
            raise MissingObject(uri)
        return self.objects[uri]


@dataclass
class FakeAnnouncer:
    """Remembers what it announced."""

    announced: list[Upload] = field(default_factory=list)

    async def data_arrived(self, upload: Upload) -> Announced:
        self.announced.append(upload)
        return Announced(event_id=f"evt-{len(self.announced)}", source="driftline/ingest")
