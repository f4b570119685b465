"""Reading a downloaded CSV or Parquet file into a frame within size, row, column and time limits.

Every hostile input raises ``Unloadable`` with a reason code; nothing else escapes for bad data.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from driftline.validation.adapters.limits import Deadline, Limits, Unloadable
from driftline.validation.adapters.parquet import parse_parquet
from driftline_contracts.events.data import SourceDialect

CHUNK_BYTES = 1024 * 1024
CHUNK_ROWS = 200_000
HEAD_CHARS = 64 * 1024
DELIMITERS = ",;\t|"
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class TextScan:
    """What one streaming pass over a CSV learnt: its decoded size and first characters."""

    size: int
    head: str


@dataclass(frozen=True)
class Parsed:
    """A file read into a frame, and how it was read."""

    frame: pd.DataFrame
    dialect: SourceDialect


def read_file(path: Path, fmt: str, limits: Limits) -> Parsed:
    """The file at ``path`` as a frame with its dialect, or ``Unloadable`` with the reason."""
    deadline = Deadline.after(limits.timeout_s)
    if fmt == "parquet":
        return Parsed(parse_parquet(path, limits, deadline), SourceDialect(format="parquet"))
    return read_csv(path, limits, deadline)


def parse_file(path: Path, fmt: str, limits: Limits) -> pd.DataFrame:
    """The file at ``path`` as a frame, or ``Unloadable`` with the reason it cannot be one."""
    return read_file(path, fmt, limits).frame


def parse_csv(path: Path, limits: Limits, deadline: Deadline) -> pd.DataFrame:
    """Strict UTF-8 CSV (optionally gzip), delimiter sniffed from the first lines."""
    return read_csv(path, limits, deadline).frame


def read_csv(path: Path, limits: Limits, deadline: Deadline) -> Parsed:
    """Strict UTF-8 CSV (optionally gzip) as a frame, with the delimiter sniffed and used."""
    compressed = _is_gzip(path)
    scan = _scan(path, compressed, limits, deadline)
    if not scan.head.strip():
        raise Unloadable("empty_file", "the file holds no data")
    header = scan.head.lstrip("\ufeff").splitlines()[0]
    delimiter = _sniff(scan.head)
    names = next(csv.reader([header], delimiter=delimiter), [])
    if len(names) > limits.max_columns:
        raise Unloadable(
            "too_many_columns", f"{len(names)} columns, at most {limits.max_columns} allowed"
        )
    if len(set(names)) != len(names):
        raise Unloadable("unreadable", "the header repeats a column name")
    frame = _read_chunks(path, compressed, delimiter, limits, deadline)
    if frame.shape[1] == 1 and any(c in header for c in DELIMITERS[1:]):
        raise Unloadable(
            "bad_delimiter", "one column whose header holds ';', tab or '|': wrong delimiter"
        )
    if frame.empty:
        raise Unloadable("header_only", f"a header of {frame.shape[1]} columns and no rows")
    dialect = SourceDialect(
        format="csv",
        delimiter=delimiter,
        encoding="utf-8-sig" if scan.head.startswith("\ufeff") else "utf-8",
        compression="gzip" if compressed else None,
    )
    return Parsed(frame, dialect)


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as src:
        return src.read(2) == GZIP_MAGIC


def _open(path: Path, compressed: bool) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if compressed else path.open("rb")


def _scan(path: Path, compressed: bool, limits: Limits, deadline: Deadline) -> TextScan:
    """Stream the (decompressed) bytes once: bound their size, check UTF-8, keep the head."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    size, head = 0, ""
    try:
        with _open(path, compressed) as src:
            while chunk := src.read(CHUNK_BYTES):
                if compressed and size + len(chunk) > limits.max_uncompressed_bytes:
                    raise Unloadable(
                        "decompression_bomb",
                        f"gzip expands past {limits.max_uncompressed_bytes} bytes",
                    )
                deadline.check()
                try:
                    decoded = decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    raise Unloadable(
                        "not_utf8", f"invalid UTF-8 at byte {size + exc.start}"
                    ) from exc
                size += len(chunk)
                if len(head) < HEAD_CHARS:
                    head += decoded[: HEAD_CHARS - len(head)]
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError as exc:
                raise Unloadable("not_utf8", "the file ends inside a UTF-8 sequence") from exc
    except (OSError, EOFError, zlib.error) as exc:
        raise Unloadable("unreadable", f"cannot decompress: {exc}") from exc
    return TextScan(size, head)


def _sniff(head: str) -> str:
    """The delimiter of the first lines (comma when they do not tell)."""
    sample = "\n".join(head.lstrip("\ufeff").splitlines()[:50])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","
    return delimiter if delimiter in DELIMITERS else ","


def _read_chunks(
    path: Path, compressed: bool, delimiter: str, limits: Limits, deadline: Deadline
) -> pd.DataFrame:
    """Parse in chunks so row count and time are bounded before everything is read."""
    chunks: list[pd.DataFrame] = []
    rows = 0
    try:
        with pd.read_csv(
            path,
            sep=delimiter,
            encoding="utf-8-sig",
            compression="gzip" if compressed else None,
            chunksize=CHUNK_ROWS,
            on_bad_lines="error",
        ) as reader:
            for chunk in reader:
                rows += len(chunk)
                if rows > limits.max_rows:
                    raise Unloadable("too_many_rows", f"more than {limits.max_rows} rows")
                deadline.check()
                if not isinstance(chunk.index, pd.RangeIndex):
                    # pandas turns surplus leading fields into an index instead of failing.
                    raise Unloadable("unreadable", "rows have more fields than the header")
                chunks.append(chunk)
    except pd.errors.EmptyDataError as exc:
        raise Unloadable("empty_file", "the file holds no columns") from exc
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        raise Unloadable("unreadable", f"CSV parser: {str(exc)[:300]}") from exc
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
