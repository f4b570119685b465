"""Uploads whose one cell (or CSV row) is too large are refused with a typed reason, before
anything is stored or catalogued; ordinary files are measured exactly."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.ingest.app import definition
from driftline.ingest.cell_limits import CellLimits, CellTooLarge, CsvCellMeter, check_parquet_cells
from driftline.ingest.settings import IngestSettings
from driftline.runtime.http import build_http_app
from driftline.runtime.service import ServiceRuntime
from driftline.runtime.storage.local import LocalArtifactStore

MIB = 1 << 20


def measured(data: bytes, piece: int) -> CsvCellMeter:
    meter = CsvCellMeter()
    for start in range(0, len(data), piece):
        meter.feed(data[start : start + piece])
    return meter


cells = st.text(alphabet=st.sampled_from('ab,"\n x'), max_size=12)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(cells, min_size=1, max_size=4), min_size=1, max_size=6),
       piece=st.integers(1, 40))  # fmt: skip
def test_largest_cell_is_measured_as_the_csv_module_writes_it(
    rows: list[list[str]], piece: int
) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    written = [
        len(field) for line in csv.reader(io.StringIO(out.getvalue())) for field in line
    ]
    widest = max(written)
    meter = measured(out.getvalue().encode(), piece)
    quoted_widest = max(len(f) + 2 + f.count('"') for row in rows for f in row)
    assert widest <= max(meter.largest_cell, 0) <= max(quoted_widest, widest)
    meter.check(CellLimits(max_cell_bytes=max(quoted_widest, widest), max_row_bytes=10_000))
    if widest > 0:
        with pytest.raises(CellTooLarge):
            meter.check(CellLimits(max_cell_bytes=widest - 1, max_row_bytes=10_000))


def test_a_quoted_cell_spanning_pieces_and_lines_is_one_cell() -> None:
    data = b'a,b\n1,"' + b'x,\n' * 1000 + b'"\n2,3\n'
    meter = measured(data, 333)
    assert meter.largest_cell == 3002
    with pytest.raises(CellTooLarge, match="cell_too_large: a cell holds 3002 bytes"):
        meter.check(CellLimits(max_cell_bytes=3001, max_row_bytes=MIB))
    with pytest.raises(CellTooLarge, match=r"a row holds 3004 bytes.*ingest.max_row_bytes"):
        meter.check(CellLimits(max_cell_bytes=MIB, max_row_bytes=3003))


def test_an_unterminated_last_cell_counts(tmp_path: Path) -> None:
    meter = measured(b"a\n" + b"y" * 50, 7)
    with pytest.raises(CellTooLarge):
        meter.check(CellLimits(max_cell_bytes=49, max_row_bytes=MIB))


def test_a_large_parquet_text_value_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    pq.write_table(pa.table({"n": [1, 2], "s": ["short", "z" * 5000]}), path)
    check_parquet_cells(path, CellLimits(max_cell_bytes=5000, max_row_bytes=1))
    with pytest.raises(CellTooLarge, match="column 's' holds 5000 bytes"):
        check_parquet_cells(path, CellLimits(max_cell_bytes=4999, max_row_bytes=1))


async def fifty_mib_cell() -> AsyncIterator[bytes]:
    yield b'feature,label\n1.0,"'
    for _ in range(50):
        yield b"x" * MIB
    yield b'"\n2.0,b\n'


async def test_upload_with_one_50_mib_quoted_cell_is_refused(tmp_path: Path) -> None:
    settings = IngestSettings.model_validate({"auth": {"disabled": True}})
    runtime = ServiceRuntime(definition(), settings, store=LocalArtifactStore(tmp_path / "o"))
    app = build_http_app(runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.post(
            "/v1/datasets/hostile", content=fifty_mib_cell(), headers={"content-type": "text/csv"}
        )
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail.startswith("cell_too_large: a cell holds 52428802 bytes")  # with its quotes
    assert "ingest.max_cell_bytes" in detail
    assert not list((tmp_path / "o").rglob("*.csv"))  # nothing stored
