"""Object storage behind the ``ArtifactStore`` port: S3 (minio) or local files.

Build a store with ``build_artifact_store(settings.storage)``; nothing connects at import.
"""

from driftline.runtime.storage.errors import (
    IntegrityError,
    ObjectNotFound,
    StorageError,
    StoreUnavailable,
    UriNotAllowed,
)
from driftline.runtime.storage.factory import build_artifact_store
from driftline.runtime.storage.ports import ArtifactStore, StoredObject

__all__ = [
    "ArtifactStore",
    "IntegrityError",
    "ObjectNotFound",
    "StorageError",
    "StoreUnavailable",
    "StoredObject",
    "UriNotAllowed",
    "build_artifact_store",
]
