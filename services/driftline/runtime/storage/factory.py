"""Build the configured ``ArtifactStore`` (the only place that picks an adapter)."""

from __future__ import annotations

from driftline.runtime.settings import StorageSettings
from driftline.runtime.storage.ports import ArtifactStore


def build_artifact_store(settings: StorageSettings) -> ArtifactStore:
    """An ``S3ArtifactStore`` or ``LocalArtifactStore`` per ``settings.backend``."""
    if settings.backend == "local":
        from driftline.runtime.storage.local import LocalArtifactStore

        return LocalArtifactStore.from_settings(settings)
    from driftline.runtime.storage.s3 import S3ArtifactStore

    return S3ArtifactStore.from_settings(settings)
