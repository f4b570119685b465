"""Monitoring's objects: reference profiles in, drift reports out."""

from __future__ import annotations

import json
from dataclasses import dataclass

from driftline.runtime.storage import ArtifactStore, StoredObject
from driftline.stats.profile import DatasetProfile
from driftline_contracts.values import ArtifactRef

JSON = "application/json"
HTML = "text/html"


@dataclass(frozen=True)
class StoredReport:
    """Where one window's JSON and HTML report went."""

    json: ArtifactRef
    html: ArtifactRef


def artifact_ref(stored: StoredObject, media_type: str) -> ArtifactRef:
    """The event reference of a stored object."""
    return ArtifactRef(
        uri=stored.uri, sha256=stored.sha256, media_type=media_type, size_bytes=stored.size_bytes
    )


async def load_profile(store: ArtifactStore, ref: ArtifactRef) -> DatasetProfile:
    """A reference profile, checked against its sha256."""
    return DatasetProfile.model_validate_json(await store.get_bytes(ref.uri, sha256=ref.sha256))


async def store_report(
    store: ArtifactStore, model: str, window_id: str, report: dict, html: str
) -> StoredReport:
    """Write ``reports/drift/{model}/{window_id}.html`` then ``.json`` (which names the html)."""
    key = f"reports/drift/{model}/{window_id}"
    as_html = await store.put_bytes(
        f"{key}.html", html.encode(), content_type=f"{HTML}; charset=utf-8"
    )
    report = {**report, "html": as_html.uri}
    as_json = await store.put_bytes(
        f"{key}.json", json.dumps(report, indent=1).encode(), content_type=JSON
    )
    return StoredReport(artifact_ref(as_json, JSON), artifact_ref(as_html, HTML))
