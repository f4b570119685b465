"""Dataset formats of uploads: which one a request means, object keys, cheap row counts."""

from __future__ import annotations

from pathlib import Path

FORMATS = ("csv", "parquet")
CONTENT_TYPE_OF = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
_FORMAT_OF = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
}
_GENERIC = frozenset({"application/octet-stream", ""})


class FormatError(ValueError):
    """The request does not say (or contradicts itself about) the data's format."""


class UnreadableDataError(ValueError):
    """The bytes are not a file of the declared format."""


def resolve_format(content_type: str | None, query_format: str | None) -> str:
    """``csv`` or ``parquet`` from ``?format=`` and the Content-Type; FormatError otherwise."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if query_format is not None and query_format not in FORMATS:
        raise FormatError(f"format must be csv or parquet, not {query_format!r}")
    from_header = _FORMAT_OF.get(media)
    if media not in _FORMAT_OF and media not in _GENERIC:
        raise FormatError(
            f"Content-Type {media!r} is not text/csv or application/vnd.apache.parquet"
        )
    if query_format and from_header and query_format != from_header:
        raise FormatError(f"Content-Type {media!r} contradicts format={query_format}")
    chosen = query_format or from_header
    if chosen is None:
        raise FormatError(
            "cannot tell the format: send Content-Type text/csv or "
            "application/vnd.apache.parquet, or pass ?format=csv|parquet"
        )
    return chosen


def object_key(name: str, sha256: str, file_format: str) -> str:
    """Content-addressed key of a dataset object: the same bytes always land in one place."""
    return f"datasets/{name}/{sha256}.{file_format}"


def csv_rows(newlines: int, size_bytes: int, ends_with_newline: bool) -> int:
    """Data rows of a CSV from its line breaks (header excluded; quoted breaks overcount)."""
    lines = newlines + (1 if size_bytes and not ends_with_newline else 0)
    return max(lines - 1, 0)


def parquet_rows(path: Path) -> int:
    """Row count from the Parquet footer (reads the metadata, not the data)."""
    import pyarrow.lib
    import pyarrow.parquet as pq

    try:
        return int(pq.read_metadata(path).num_rows)
    except (pyarrow.lib.ArrowException, OSError) as exc:
        raise UnreadableDataError(f"not a readable Parquet file: {exc}") from exc
