"""Services that never need the statistics stack start without importing it (issue #15: restart
time is mostly import CPU); validation, training and monitoring have their own such tests."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HEAVY = ("scipy", "sklearn", "pandas", "pyarrow", "numpy")

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


@pytest.mark.parametrize("service", ["ingest", "registry", "audit", "console"])
def test_building_the_service_imports_no_numeric_library(service: str) -> None:
    probe = PROBE.format(service=service, heavy=HEAVY)
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
