"""Reading Parquet within limits: the footer is checked before any data page is read."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from driftline.validation.adapters.limits import Deadline, Limits, Unloadable

BATCH_ROWS = 100_000


def parse_parquet(path: Path, limits: Limits, deadline: Deadline) -> pd.DataFrame:
    """The Parquet file as a frame; sizes from the footer are bounded before reading."""
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise Unloadable("unreadable", f"not a Parquet file: {str(exc)[:300]}") from exc
    _check_footer(parquet.metadata, limits)
    batches: list[pa.RecordBatch] = []
    decoded = 0
    try:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
            decoded += batch.nbytes
            # The footer can lie; what is actually decoded is bounded too.
            if decoded > limits.max_uncompressed_bytes:
                raise Unloadable("decompression_bomb", "decoded data exceeds the size limit")
            deadline.check()
            batches.append(batch)
        table = pa.Table.from_batches(batches, schema=parquet.schema_arrow)
        return table.to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise Unloadable("unreadable", f"Parquet reader: {str(exc)[:300]}") from exc


def _check_footer(metadata: pq.FileMetaData, limits: Limits) -> None:
    """Reject on the footer's row, column and uncompressed-size counts alone."""
    if metadata.num_columns == 0:
        raise Unloadable("empty_file", "the Parquet file has no columns")
    if metadata.num_columns > limits.max_columns:
        raise Unloadable(
            "too_many_columns",
            f"{metadata.num_columns} columns, at most {limits.max_columns} allowed",
        )
    if metadata.num_rows > limits.max_rows:
        raise Unloadable(
            "too_many_rows", f"{metadata.num_rows} rows, at most {limits.max_rows} allowed"
        )
    uncompressed = sum(
        metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups)
    )
    if uncompressed > limits.max_uncompressed_bytes:
        raise Unloadable(
            "decompression_bomb",
            f"{uncompressed} bytes uncompressed, at most {limits.max_uncompressed_bytes} allowed",
        )
    if metadata.num_rows == 0:
        raise Unloadable("header_only", f"{metadata.num_columns} columns and no rows")
