"""Building a service imports none of the libraries it needs only for its work (issue #15:
restart time is mostly import CPU): pandas, scipy and pyarrow come with the first arrival,
job or window; services that never compute import no numeric library at all."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

STATISTICS = ("scipy", "sklearn", "pandas", "pyarrow")
NUMERIC = (*STATISTICS, "numpy")

PROBE = """
import sys
from driftline.runtime.app import build_service_app
build_service_app({service!r})
print(sorted(m for m in {heavy!r} if m in sys.modules))
"""

QUIET = {
    "DRIFTLINE_AUTH__DISABLED": "true",
    "DRIFTLINE_SIGNING__DISABLED": "true",
    "DRIFTLINE_AUDIT__DIGEST_KEY": "a-test-key-of-enough-characters",
}


@pytest.mark.parametrize(
    ("service", "heavy"),
    [
        ("ingest", NUMERIC),
        ("registry", NUMERIC),
        ("audit", NUMERIC),
        ("console", NUMERIC),
        ("validation", STATISTICS),  # ~0.9 s of CPU less per (re)start
        ("training", STATISTICS),  # ~0.5 s
        ("monitoring", STATISTICS),  # ~0.8 s
    ],
)
def test_building_the_service_imports_none_of_its_work_libraries(
    service: str, heavy: tuple[str, ...]
) -> None:
    probe = PROBE.format(service=service, heavy=heavy)
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True, text=True, check=True, env={**os.environ, **QUIET},
    )  # fmt: skip
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_upload_meter_still_measures_cells_and_rows() -> None:
    from driftline.ingest.cell_limits import CsvCellMeter

    meter = CsvCellMeter()
    meter.feed(b'a,"b,c"\n1,')
    meter.feed(b"22\n")
    assert (meter.largest_cell, meter.largest_row) == (5, 7)
