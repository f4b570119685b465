"""How large one cell (and one CSV row) of an upload may be.

Rows are counted from line breaks and the Parquet footer without parsing the data, so a file
whose one quoted cell held 50 MB used to be catalogued, and every later reader (validation,
training) would have had to hold that cell. A CSV is measured while it is spooled
(``CsvCellMeter``, vectorised: separators outside quotes bound cells, newlines outside quotes
bound rows); a Parquet file's text and binary columns are read once, in batches, after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from driftline.ingest.formats import UnreadableDataError

if TYPE_CHECKING:
    import numpy as np

QUOTE, COMMA, NEWLINE = ord('"'), ord(","), ord("\n")


class CellTooLarge(UnreadableDataError):  # noqa: N818 - reads as what the upload holds
    """One value or one CSV row is larger than the configured limit."""

    def __init__(self, what: str, size: int, limit: int, setting: str) -> None:
        super().__init__(
            f"cell_too_large: {what} holds {size} bytes, more than the limit of {limit} "
            f"bytes ({setting})"
        )
        self.reason = "cell_too_large"
        self.size = size
        self.limit = limit


@dataclass(frozen=True)
class CellLimits:
    """Largest value and largest CSV row, in bytes."""

    max_cell_bytes: int
    max_row_bytes: int


class CsvCellMeter:
    """Largest cell and row of a CSV fed in pieces (quotes may span pieces)."""

    def __init__(self) -> None:
        self.offset = 0  # bytes fed so far
        self.quoted = False  # inside quotes at the end of the bytes fed
        self.cell_end = -1  # offset of the last cell boundary (a separator outside quotes)
        self.row_end = -1
        self.largest_cell = self.largest_row = 0

    def feed(self, data: bytes) -> None:
        """Measure the next piece of the file."""
        import numpy as np  # with the first upload, not at the service's start-up

        if not data:
            return
        values = np.frombuffer(data, dtype=np.uint8)
        quotes = np.cumsum(values == QUOTE, dtype=np.int64)
        outside = ((quotes + self.quoted) & 1) == 0
        separators = np.flatnonzero(((values == COMMA) | (values == NEWLINE)) & outside)
        newlines = separators[values[separators] == NEWLINE]
        self.cell_end = self._widest(separators, self.cell_end, "cell")
        self.row_end = self._widest(newlines, self.row_end, "row")
        self.quoted ^= bool(quotes[-1] & 1)
        self.offset += len(data)

    def _widest(self, ends: np.ndarray, last: int, kind: str) -> int:
        import numpy as np

        if not len(ends):
            return last
        bounds = np.concatenate(([last], ends + self.offset))
        widest = int(np.diff(bounds).max()) - 1
        setattr(self, f"largest_{kind}", max(getattr(self, f"largest_{kind}"), widest))
        return int(bounds[-1])

    def check(self, limits: CellLimits) -> None:
        """CellTooLarge when a cell or row (the unterminated last one included) is too large."""
        cell = max(self.largest_cell, self.offset - self.cell_end - 1)
        row = max(self.largest_row, self.offset - self.row_end - 1)
        if cell > limits.max_cell_bytes:
            raise CellTooLarge("a cell", cell, limits.max_cell_bytes, "ingest.max_cell_bytes")
        if row > limits.max_row_bytes:
            raise CellTooLarge("a row", row, limits.max_row_bytes, "ingest.max_row_bytes")


def check_parquet_cells(path: Path, limits: CellLimits) -> None:
    """CellTooLarge when a text or binary value of the Parquet file is too large (blocking)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.lib
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
        schema = file.schema_arrow
        wide = [
            f.name
            for f in schema
            if pa.types.is_string(f.type) or pa.types.is_binary(f.type)
            or pa.types.is_large_string(f.type) or pa.types.is_large_binary(f.type)
        ]  # fmt: skip
        batches = file.iter_batches(batch_size=1024, columns=wide) if wide else ()
        for batch in batches:
            for name, column in zip(batch.schema.names, batch.columns, strict=True):
                largest = pc.max(pc.binary_length(column)).as_py()
                if largest is not None and largest > limits.max_cell_bytes:
                    what = f"a cell of column {name[:100]!r}"
                    raise CellTooLarge(what, largest, limits.max_cell_bytes,
                                       "ingest.max_cell_bytes")  # fmt: skip
    except (pyarrow.lib.ArrowException, OSError) as exc:
        raise UnreadableDataError(f"not a readable Parquet file: {exc}") from exc
