"""One side of the drift benchmark in a fresh process: read the Parquet frames, time, measure.

``python -m bench.drift_worker {driftline,log,floor} FOLDER REPEATS`` prints JSON: seconds per
repeat, peak extra memory and the statistics. Peak extra memory is the growth of the
process's peak RSS over its RSS once the frames are loaded (``/proc/self/clear_refs``
resets the peak), plus the ``tracemalloc`` peak of a separate run.

Driftline runs the monitoring path: ``profile_frame`` on the reference (what validation
stores and monitoring holds), then ``evaluate_window`` on the current frame with the default
policy. Both are timed; "evaluate" alone is what monitoring pays per window. ``log`` times the same
evaluation with the window read from the prediction log's objects (``bench.drift_log``).
"""

from __future__ import annotations

import ctypes
import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from bench import drift_floor, drift_log
from bench.drift_frames import CATEGORICAL, NUMERIC
from driftline.monitoring.evaluation import Reference, Tolerances, WindowData, evaluate_window
from driftline.stats.profile import DatasetProfile, profile_frame
from driftline_contracts.modelspec import DriftPolicy

MIB = 1024 * 1024


def rss_reset() -> int:
    """Reset the peak RSS to the current RSS; the current RSS in bytes."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status("VmRSS")


def trim_heap() -> None:
    """Return glibc's free heap memory to the OS."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def rss_peak() -> int:
    """Peak RSS since the last reset, in bytes."""
    return _status("VmHWM")


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    raise KeyError(key)


def peak_extra(fn: Callable[[], object]) -> tuple[float, float]:
    """``(RSS growth, tracemalloc peak)`` in MiB of one call each.

    Free heap memory goes back to the OS first (``malloc_trim``), so memory freed by
    earlier work cannot hide this call's growth.
    """
    trim_heap()
    base = rss_reset()
    fn()
    grown = (rss_peak() - base) / MIB
    tracemalloc.start()
    fn()
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return grown, traced / MIB


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    """Seconds per call, ``repeats`` calls."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return seconds


def driftline(reference: pd.DataFrame, current: pd.DataFrame, repeats: int) -> dict:
    """Profile + window evaluation, timed apart and together."""

    def profile() -> DatasetProfile:
        return profile_frame(reference, sha256="0" * 64)

    def evaluate(on: DatasetProfile):
        window = WindowData(current, [], [])
        return evaluate_window(Reference(on, "target", "classification"), window, DriftPolicy(),
                               Tolerances())  # fmt: skip

    cold_mib, cold_traced = peak_extra(lambda: evaluate(profile()))  # first: a fresh process
    held = profile()
    warm_mib, warm_traced = peak_extra(lambda: evaluate(held))
    result = evaluate(held)
    return {
        "profile_s": timed(profile, repeats),
        "evaluate_s": timed(lambda: evaluate(held), repeats),
        "cold_s": timed(lambda: evaluate(profile()), repeats),
        "rss_mib": cold_mib, "traced_mib": cold_traced,
        "evaluate_rss_mib": warm_mib, "evaluate_traced_mib": warm_traced,
        "features": [f.model_dump(mode="json") for f in result.features],
        "drifted": result.drifted, "share": result.drift_share,
    }  # fmt: skip


def from_log(reference: pd.DataFrame, root: Path, repeats: int) -> dict:
    """The window read from the log's objects, then evaluated with the profile held."""
    rows = drift_log.buffered(drift_log.read_manifest(root))  # what PostgreSQL's take returns
    held = profile_frame(reference, sha256="0" * 64)

    def window() -> dict:
        return drift_log.evaluate_from_log(root, rows, held)

    rss_mib, traced_mib = peak_extra(window)
    runs = [window() for _ in range(repeats)]
    result = runs[-1]["result"]
    return {
        "window_s": [r["total_s"] for r in runs], "read_s": [r["read_s"] for r in runs],
        "objects": len({r.source.uri for r in rows if r.source is not None}),
        "rss_mib": rss_mib, "traced_mib": traced_mib,
        "features": [f.model_dump(mode="json") for f in result.features],
        "drifted": result.drifted, "share": result.drift_share,
    }  # fmt: skip


def floor(reference: pd.DataFrame, current: pd.DataFrame, repeats: int) -> dict:
    """The tuned numpy/scipy pass."""

    def run() -> dict:
        return drift_floor.run(reference, current, NUMERIC, CATEGORICAL)

    rss_mib, traced_mib = peak_extra(run)
    return {"cold_s": timed(run, repeats), "rss_mib": rss_mib, "traced_mib": traced_mib,
            "columns": run()}  # fmt: skip


def main(argv: list[str]) -> None:
    """Entry point: side, folder, repeats."""
    side, folder, repeats = argv[0], Path(argv[1]), int(argv[2])
    reference = pd.read_parquet(folder / "reference.parquet")
    if side == "log":  # its window comes from the log's objects, not from current.parquet
        print(json.dumps(from_log(reference, folder / "log", repeats)))
        return
    current = pd.read_parquet(folder / "current.parquet")
    run = {"driftline": driftline, "floor": floor}[side]
    print(json.dumps(run(reference, current, repeats)))


if __name__ == "__main__":
    main(sys.argv[1:])
