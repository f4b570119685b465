"""Profiles and reports in the object store: where they go and how they are read back."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from driftline.runtime.storage import ArtifactStore, IntegrityError, ObjectNotFound, StoredObject
from driftline.stats.profile import DatasetProfile
from driftline.validation.adapters.reports import build_report, report_html, report_json
from driftline.validation.core import Verdict
from driftline_contracts.values import ArtifactRef, DatasetRef, Reason

JSON = "application/json"
HTML = "text/html"


@dataclass(frozen=True)
class OutcomeArtifacts:
    """What one validation stored: the profile (if a frame was read) and the report."""

    profile: ArtifactRef | None
    report: ArtifactRef
    report_html: ArtifactRef


def artifact_ref(stored: StoredObject, media_type: str) -> ArtifactRef:
    """The event reference of a stored object."""
    return ArtifactRef(
        uri=stored.uri, sha256=stored.sha256, media_type=media_type, size_bytes=stored.size_bytes
    )


async def store_artifacts(
    store: ArtifactStore,
    dataset: DatasetRef,
    verdict: Verdict,
    profile: DatasetProfile | None,
    *,
    version: int | None,
    baseline_version: int | None,
) -> OutcomeArtifacts:
    """Write the profile and the JSON and HTML report under content-addressed keys."""
    name, sha = dataset.name, dataset.sha256
    profile_ref = None
    if profile is not None:
        stored = await store.put_bytes(
            f"profiles/{name}/{sha}.json", profile.model_dump_json().encode(), content_type=JSON
        )
        profile_ref = artifact_ref(stored, JSON)
    report = build_report(dataset, verdict, version=version, baseline_version=baseline_version)
    report["profile"] = profile_ref.uri if profile_ref else None
    as_json = await store.put_bytes(
        f"reports/validation/{name}/{sha}.json", report_json(report), content_type=JSON
    )
    as_html = await store.put_bytes(
        f"reports/validation/{name}/{sha}.html",
        report_html(report).encode(),
        content_type=f"{HTML}; charset=utf-8",
    )
    return OutcomeArtifacts(profile_ref, artifact_ref(as_json, JSON), artifact_ref(as_html, HTML))


async def load_profile(
    store: ArtifactStore, ref: ArtifactRef
) -> tuple[DatasetProfile | None, Reason | None]:
    """The baseline profile, or a warning saying why drift could not be checked."""
    try:
        data = await store.get_bytes(ref.uri, sha256=ref.sha256)
        return DatasetProfile.model_validate_json(data), None
    except (ObjectNotFound, IntegrityError, ValidationError) as exc:
        warning = Reason(
            code="baseline_unavailable",
            message=f"previous profile unusable, distribution not compared: {str(exc)[:400]}",
        )
        return None, warning
