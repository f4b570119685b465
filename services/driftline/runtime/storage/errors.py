"""Typed failures of the object store; ``StoreUnavailable`` is the only transient one."""

from __future__ import annotations


class StorageError(Exception):
    """An object-store operation failed and retrying the same call will not help."""


class ObjectNotFound(StorageError):  # noqa: N818 - names are the public port
    """No object lives at the URI."""

    def __init__(self, uri: str) -> None:
        super().__init__(f"no object at {uri}")
        self.uri = uri


class IntegrityError(StorageError):
    """The bytes read do not have the sha256 the caller expected."""

    def __init__(self, uri: str, expected: str, actual: str) -> None:
        super().__init__(f"sha256 mismatch for {uri}: expected {expected}, got {actual}")
        self.uri = uri
        self.expected = expected
        self.actual = actual


class UriNotAllowed(StorageError):  # noqa: N818 - names are the public port
    """A key or URI is malformed or points outside what Driftline may touch."""

    def __init__(self, uri: str, reason: str) -> None:
        super().__init__(f"{uri!r} not allowed: {reason}")
        self.uri = uri
        self.reason = reason


class StoreUnavailable(StorageError):  # noqa: N818 - names are the public port
    """The store cannot be reached right now (refused, timed out, 5xx); retry later."""
