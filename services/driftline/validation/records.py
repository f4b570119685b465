"""What validation remembers about outcomes: accepted versions and rejections."""

from __future__ import annotations

from dataclasses import dataclass

from driftline_contracts.values import ArtifactRef, Reason


@dataclass(frozen=True)
class AcceptedVersion:
    """One accepted dataset version and where its profile and report are."""

    dataset: str
    version: int
    sha256: str
    uri: str
    rows: int | None
    profile: ArtifactRef
    report_uri: str
    event_id: str


@dataclass(frozen=True)
class Rejection:
    """One rejected (dataset, sha256) under one set of specs."""

    dataset: str
    sha256: str
    fingerprint: str
    reasons: tuple[Reason, ...]
    report_uri: str
    event_id: str
