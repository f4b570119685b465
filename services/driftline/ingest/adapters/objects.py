"""Dataset objects in the artifact store: which URIs arrivals may name, and what is there."""

from __future__ import annotations

from pathlib import Path

from driftline.ingest.models import ForeignUri, MissingObject, ObjectFacts
from driftline.runtime.settings import StorageSettings
from driftline.runtime.storage import ArtifactStore, ObjectNotFound, UriNotAllowed
from driftline.runtime.storage.uris import UriPolicy


def arrival_policy(storage: StorageSettings) -> UriPolicy:
    """The URI policy of the configured store (same rules the store itself applies)."""
    if storage.backend == "local":
        root = Path(storage.local_root).resolve().as_posix()
        return UriPolicy("local", bucket="", prefix=storage.prefix, root=root)
    return UriPolicy("s3", storage.bucket, storage.prefix, frozenset(storage.allowed_buckets))


def uri_problem(policy: UriPolicy, uri: str) -> str | None:
    """Why an arrival may not name ``uri``: outside the bucket/prefix or allowed buckets."""
    try:
        parsed = policy.check_read(uri)
    except UriNotAllowed as exc:
        return exc.reason
    if parsed.scheme == "s3":
        own = parsed.bucket == policy.bucket
        key = parsed.key
    else:
        own, key = True, parsed.path[len(policy.root) + 1 :]
    if own and not key.startswith(policy.prefix):
        return f"key outside the prefix {policy.prefix!r}"
    return None


class StoreDatasetObjects:
    """Facts about dataset objects from the ``ArtifactStore`` (HEAD, or a streamed hash)."""

    def __init__(self, store: ArtifactStore, policy: UriPolicy) -> None:
        self._store = store
        self._policy = policy

    def uri_problem(self, uri: str) -> str | None:
        """Why ``uri`` is not one a pipeline may announce, or None."""
        return uri_problem(self._policy, uri)

    async def facts(self, uri: str) -> ObjectFacts:
        """sha256 and size of the object; the store hashes by streaming when it must."""
        try:
            stored = await self._store.stat(uri)
        except UriNotAllowed as exc:
            raise ForeignUri(exc.reason) from exc
        except ObjectNotFound as exc:
            raise MissingObject(uri) from exc
        return ObjectFacts(sha256=stored.sha256, size_bytes=stored.size_bytes)
