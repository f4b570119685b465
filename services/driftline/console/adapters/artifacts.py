"""Published artifacts (e.g. validation's column profiles) read from the object store."""

from __future__ import annotations

import json

from driftline.console.ports import Row
from driftline.runtime.logging import get_logger
from driftline.runtime.storage import ArtifactStore, StorageError

log = get_logger(__name__)

MAX_DOCUMENT_BYTES = 20_000_000
"""A profile of a few hundred columns is well under this; anything larger is not drawn."""


class StoreArtifacts:
    """JSON documents by the ``ArtifactRef`` an audited event carries (uri and sha256)."""

    def __init__(self, store: ArtifactStore) -> None:
        self._store = store

    async def json_document(self, uri: str, sha256: str | None) -> Row | None:
        try:
            data = await self._store.get_bytes(uri, sha256=sha256)
        except StorageError as exc:  # missing, tampered or outside the bucket: the page says so
            log.info("artifact unreadable", uri=uri, error=repr(exc))
            return None
        if len(data) > MAX_DOCUMENT_BYTES:
            return None
        try:
            found = json.loads(data)
        except ValueError:
            return None
        return found if isinstance(found, dict) else None
