"""What the catalog talks about: versions, arrivals, uploads, rejections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class DatasetVersion:
    """One catalogued upload of a dataset: its upload number and, once accepted, its version.

    Every distinct upload or pipeline arrival gets the next ``upload`` number, rejected ones
    too; ``version`` is the accepted version number validation assigns (the one
    ``DataValidated``, training and the registry name), null until then and for rejections.
    """

    name: str
    upload: int
    sha256: str
    uri: str
    format: str
    size_bytes: int | None
    rows: int | None
    source: str
    actor: str
    event_id: str
    created_at: datetime | None = None
    uploaded_by: str | None = None
    validation_status: str | None = None
    profile_uri: str | None = None
    report_uri: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class DatasetCounts:
    """A dataset's uploads and accepted versions, counted."""

    name: str
    uploads: int
    latest_upload: int
    versions: int
    latest_version: int | None


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
    uploaded_by: str | None = None


@dataclass(frozen=True)
class Upload:
    """A dataset a user uploaded, already stored at ``uri``."""

    name: str
    sha256: str
    uri: str
    format: str
    size_bytes: int
    rows: int | None
    actor: str


@dataclass(frozen=True)
class Announced:
    """The DataArrived event that announced an upload."""

    event_id: str
    source: str


@dataclass(frozen=True)
class ObjectFacts:
    """What the store says about an object."""

    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class Rejection:
    """Why a pipeline arrival was not catalogued."""

    code: str
    message: str


@dataclass(frozen=True)
class Admission:
    """Outcome of a pipeline arrival: a version (new or not) or a rejection."""

    version: DatasetVersion | None = None
    new: bool = False
    rejection: Rejection | None = None


class ForeignUri(Exception):  # noqa: N818 - a domain outcome, not a crash
    """The URI points somewhere Driftline may not read."""


class MissingObject(Exception):  # noqa: N818 - a domain outcome, not a crash
    """No object lives at the URI."""
