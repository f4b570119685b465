"""Upload formats: which format a request means, content-addressed keys, row counts."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftline.ingest.formats import (
    FormatError,
    UnreadableDataError,
    csv_rows,
    object_key,
    parquet_rows,
    resolve_format,
)


@pytest.mark.parametrize(
    ("content_type", "query", "expected"),
    [
        ("text/csv", None, "csv"),
        ("text/csv; charset=utf-8", None, "csv"),
        ("application/vnd.apache.parquet", None, "parquet"),
        ("application/octet-stream", "parquet", "parquet"),
        (None, "csv", "csv"),
        ("text/csv", "csv", "csv"),
    ],
)
def test_format_from_content_type_or_query(
    content_type: str | None, query: str | None, expected: str
) -> None:
    assert resolve_format(content_type, query) == expected


@pytest.mark.parametrize(
    ("content_type", "query", "message"),
    [
        ("application/octet-stream", None, "?format=csv|parquet"),
        (None, None, "?format=csv|parquet"),
        ("application/json", None, "application/json"),
        ("text/csv", "parquet", "contradicts"),
        ("text/csv", "xlsx", "'xlsx'"),
    ],
)
def test_unclear_format_is_refused_with_a_reason(
    content_type: str | None, query: str | None, message: str
) -> None:
    with pytest.raises(FormatError, match=message.replace("?", r"\?").replace("|", r"\|")):
        resolve_format(content_type, query)


def test_object_key_is_content_addressed() -> None:
    assert object_key("churn", "ab" * 32, "parquet") == f"datasets/churn/{'ab' * 32}.parquet"


@pytest.mark.parametrize(
    ("text", "rows"),
    [(b"a,b\n1,2\n3,4\n", 2), (b"a,b\n1,2\n3,4", 2), (b"a,b\n", 0), (b"a,b", 0), (b"", 0)],
)
def test_csv_rows_exclude_the_header_with_or_without_final_newline(text: bytes, rows: int) -> None:
    assert csv_rows(text.count(b"\n"), len(text), text.endswith(b"\n")) == rows


def test_parquet_rows_come_from_the_footer(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"a": list(range(1234)), "b": ["x"] * 1234}), path, row_group_size=100)
    assert parquet_rows(path) == 1234


def test_a_csv_sent_as_parquet_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    path.write_bytes(b"a,b\n1,2\n")
    with pytest.raises(UnreadableDataError, match="Parquet"):
        parquet_rows(path)
