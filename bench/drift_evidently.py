"""Evidently's side of the drift benchmark: its report on the Parquet frames, in its own venv.

One fresh process per (size, mode) in ``.driftline/evidently-venv`` (built by
``bench.evidently_parity.ensure_venv``): read the frames, return free heap memory to the OS
(``malloc_trim``), reset the peak RSS (``/proc/self/clear_refs``), run
``Report([DataDriftPreset(...)])``, print the seconds, the peak RSS growth and every
column's method and value as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from bench.evidently_parity import DEFAULT_VENV, ensure_venv

MODES = {
    "default": "DataDriftPreset()",
    "ks": 'DataDriftPreset(num_method="ks", cat_method="chisquare")',
}
TESTS = {"ks", "chisquare", "z"}
"""Stat-test names (a forced method is reported by name) whose value is a p-value."""
PEER = r"""
import json, sys, time, warnings
from pathlib import Path
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
warnings.filterwarnings("ignore")

def status(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

folder = sys.argv[1]
reference = pd.read_parquet(f"{folder}/reference.parquet")
current = pd.read_parquet(f"{folder}/current.parquet")
report = Report([PRESET])
import ctypes, gc
gc.collect()
ctypes.CDLL("libc.so.6").malloc_trim(0)
Path("/proc/self/clear_refs").write_text("5")
base = status("VmRSS")
start = time.perf_counter()
snapshot = report.run(current_data=current, reference_data=reference)
seconds = time.perf_counter() - start
peak = status("VmHWM") - base
columns, share = {}, None
for metric in snapshot.dict()["metrics"]:
    config = metric["config"]
    if config["type"].endswith("DriftedColumnsCount"):
        share = metric["value"]["share"]
    elif config["type"].endswith("ValueDrift"):
        columns[config["column"]] = {"method": config["method"], "value": metric["value"],
                                     "threshold": config["threshold"]}
print(json.dumps({"seconds": seconds, "rss_mib": peak / 2**20, "columns": columns,
                  "share": share}))
"""


def run(folder: Path, mode: str, env: dict[str, str], venv: Path = DEFAULT_VENV) -> dict:
    """Evidently's report in ``mode`` on the frames in ``folder``."""
    python = ensure_venv(venv)
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "peer.py"
        script.write_text(PEER.replace("PRESET", MODES[mode]))
        done = subprocess.run(
            [str(python), str(script), str(folder)],
            capture_output=True, text=True, check=True, env={**os.environ, **env},
        )  # fmt: skip
    return json.loads(done.stdout)


def is_p_value(method: str) -> bool:
    """Whether Evidently's value for ``method`` is a p-value (else a distance)."""
    return method.endswith("p_value") or method in TESTS


def flagged(columns: dict) -> set[str]:
    """Columns Evidently calls drifted: p-value below, or distance at or above, its threshold."""
    found = set()
    for name, column in columns.items():
        value, threshold = column["value"], column["threshold"]
        if (value < threshold) if is_p_value(column["method"]) else (value >= threshold):
            found.add(name)
    return found
