"""Object URIs: parsing, canonical form and confinement (pure, no I/O).

Canonical forms are ``s3://bucket/key`` and ``file:///abs/path``. Keys are taken literally
(no percent-decoding), so what is checked here is exactly what reaches S3 or the disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from driftline.runtime.storage.errors import UriNotAllowed

Scheme = Literal["s3", "file"]
MAX_KEY_BYTES = 1024
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class ObjectUri:
    """A parsed URI; for ``file`` the bucket is empty and the key is the path without ``/``."""

    scheme: Scheme
    bucket: str
    key: str

    @property
    def path(self) -> str:
        """Absolute path of a ``file`` URI."""
        return "/" + self.key

    def __str__(self) -> str:
        if self.scheme == "file":
            return f"file://{self.path}"
        return f"s3://{self.bucket}/{self.key}"


def key_problem(key: str) -> str | None:
    """Why ``key`` is not a safe relative object key, or None when it is."""
    if not key:
        return "empty key"
    if "\x00" in key or _CONTROL.search(key):
        return "control character"
    if "\\" in key:
        return "backslash"
    if key.startswith("/"):
        return "absolute key"
    if "?" in key or "#" in key:
        return "query or fragment character"
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return f"key longer than {MAX_KEY_BYTES} bytes"
    segments = key.split("/")
    if "" in segments:
        return "empty path segment (// or trailing /)"
    if any(s in (".", "..") for s in segments):
        return "dot segment (. or ..)"
    return None


def check_key(key: str) -> str:
    """``key`` unchanged when it is a safe relative key; else ``UriNotAllowed``."""
    problem = key_problem(key)
    if problem is not None:
        raise UriNotAllowed(key, problem)
    return key


def parse(uri: str) -> ObjectUri:
    """Parse ``s3://bucket/key`` or ``file:///abs/path``; refuse anything unsafe."""
    scheme, sep, rest = uri.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("s3", "file"):
        raise UriNotAllowed(uri, "scheme must be s3:// or file://")
    if scheme == "file":
        if not rest.startswith("/"):
            raise UriNotAllowed(uri, "file URI must be file:///absolute/path (no host)")
        return ObjectUri("file", "", _checked(uri, rest[1:]))
    bucket, _, key = rest.partition("/")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise UriNotAllowed(uri, f"invalid bucket name {bucket!r}")
    return ObjectUri("s3", bucket, _checked(uri, key))


def canonical(uri: str) -> str:
    """The canonical spelling of ``uri`` (lower-case scheme); refuses what ``parse`` refuses."""
    return str(parse(uri))


def _checked(uri: str, key: str) -> str:
    """``key`` when safe, else ``UriNotAllowed`` naming the whole URI."""
    problem = key_problem(key)
    if problem is not None:
        raise UriNotAllowed(uri, problem)
    return key


def normalize_prefix(prefix: str) -> str:
    """``""`` or a safe key ending in ``/`` (``team-a`` → ``team-a/``); ValueError otherwise."""
    stripped = prefix.strip("/")
    if not stripped:
        return ""
    problem = key_problem(stripped)
    if problem is not None:
        raise ValueError(f"storage prefix {prefix!r} is not a safe key: {problem}")
    return stripped + "/"


@dataclass(frozen=True)
class UriPolicy:
    """Which URIs a store may read and write, derived from the storage settings.

    Reads: the configured bucket and ``allowed_buckets`` (s3), or anything under ``root``
    (local). Writes: only under ``prefix`` in the configured bucket (or ``root``).
    """

    backend: Literal["s3", "local"]
    bucket: str
    prefix: str = ""
    allowed_buckets: frozenset[str] = field(default_factory=frozenset)
    root: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", normalize_prefix(self.prefix))
        bad_root = not self.root.startswith("/") or key_problem(self.root[1:]) is not None
        if self.backend == "local" and bad_root:
            raise ValueError(f"local storage root must be an absolute, normal path: {self.root!r}")

    def uri_for(self, key: str) -> str:
        """Canonical URI of the relative ``key`` (under the prefix)."""
        full = self.prefix + check_key(key)
        if self.backend == "local":
            return str(ObjectUri("file", "", f"{self.root[1:]}/{full}"))
        return str(ObjectUri("s3", self.bucket, full))

    def check_read(self, uri: str) -> ObjectUri:
        """The parsed ``uri`` when this store may read it; else ``UriNotAllowed``."""
        parsed = parse(uri)
        if self.backend == "s3":
            if parsed.scheme != "s3":
                raise UriNotAllowed(uri, "file:// URIs are not allowed with the s3 backend")
            if parsed.bucket != self.bucket and parsed.bucket not in self.allowed_buckets:
                raise UriNotAllowed(uri, f"bucket {parsed.bucket!r} is not allowed")
        elif parsed.scheme != "file":
            raise UriNotAllowed(uri, "s3:// URIs are not allowed with the local backend")
        elif not parsed.path.startswith(self.root + "/"):
            raise UriNotAllowed(uri, f"path outside the storage root {self.root}")
        return parsed

    def check_write(self, uri: str) -> ObjectUri:
        """The parsed ``uri`` when this store may write it; else ``UriNotAllowed``."""
        parsed = self.check_read(uri)
        if parsed.scheme == "s3" and parsed.bucket != self.bucket:
            raise UriNotAllowed(uri, f"bucket {parsed.bucket!r} is read only")
        base = parsed.key if parsed.scheme == "s3" else parsed.path[len(self.root) + 1 :]
        if not base.startswith(self.prefix):
            raise UriNotAllowed(uri, f"key outside the prefix {self.prefix!r}")
        return parsed
