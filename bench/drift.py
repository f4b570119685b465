"""Drift at 10^5 and 10^6 rows x 25 columns: Driftline vs Evidently vs a numpy/scipy floor.

Each side runs in a fresh process on the same Parquet frames (``bench.drift_frames``), one
BLAS thread everywhere: Driftline's monitoring path (``bench.drift_worker``), the same path
with the window read from the prediction log's Parquet objects (``bench.drift_log``), the tuned
floor (``bench.drift_floor``), Evidently 0.7.23's default ``DataDriftPreset`` and the same
preset forced to KS / chi-square (``bench.drift_evidently``, its own venv). The benchmark
fails unless the statistics agree where the methods coincide (``bench.drift_checks``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import drift_evidently, drift_log
from bench.drift_checks import check_lines, log_check, run_checks
from bench.drift_chisquare import false_alarm_rates
from bench.drift_frames import write_pair
from bench.drift_report import Measured, report_lines

SIZES = (100_000, 1_000_000)
QUICK_SIZES = (20_000,)
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
ROOT = Path(__file__).resolve().parents[1]


def _worker(side: str, folder: Path, repeats: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.drift_worker", side, str(folder), str(repeats)],
        capture_output=True, text=True, check=True, cwd=ROOT,
        env={**os.environ, **SINGLE_THREAD},
    )  # fmt: skip
    return json.loads(done.stdout)


def measure(rows: int, folder: Path, repeats: int) -> Measured:
    """Every side on one pair of frames, then the checks.

    Evidently runs twice up to 100,000 rows (the faster run counts), once above (~2 min).
    """
    tries = 2 if rows <= 100_000 else 1
    reference, current = write_pair(rows, folder)
    (folder / "log").mkdir()
    drift_log.write_log(current, folder / "log")
    driftline = _worker("driftline", folder, repeats)
    log = _worker("log", folder, repeats)
    floor = _worker("floor", folder, repeats)
    evidently, evidently_ks = (
        min((drift_evidently.run(folder, mode, SINGLE_THREAD) for _ in range(tries)),
            key=lambda run: run["seconds"])
        for mode in ("default", "ks")
    )  # fmt: skip
    checks = [*run_checks(reference, current, floor, driftline, evidently_ks),
              log_check(driftline, log)]  # fmt: skip
    return Measured(rows, driftline, floor, evidently, evidently_ks, checks, log)


def report(quick: bool) -> list[str]:
    """The drift section: timings, memory, verdicts, checks and the chi-square difference."""
    sizes = QUICK_SIZES if quick else SIZES
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        found = []
        for rows in sizes:
            folder = Path(scratch) / str(rows)
            folder.mkdir()
            found.append(measure(rows, folder, repeats=1 if quick else 5))
    rates = false_alarm_rates(sizes[-1], replicates=100 if quick else 500)
    lines = report_lines(found, rates, (load, os.getloadavg()))
    for measured in found:
        lines += check_lines(measured.checks, measured.rows)
    failed = [c.name for m in found for c in m.checks if not c.ok]
    if failed:
        raise AssertionError(f"statistics differ where the methods coincide: {failed}")
    return lines
