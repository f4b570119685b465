"""Evidently parity: Driftline's ``method: evidently`` against real Evidently on the same data.

Evidently 0.7.23 installs against the project's pins but does not import with pandas 3 (it
imports ``pandas.core.dtypes.common.infer_dtype_from_object``, gone in pandas 3), so it runs in
a venv of its own, ``.driftline/evidently-venv`` (git-ignored), built on first use with
``evidently==0.7.23``, ``pandas<3`` and ``pyarrow``. The frames are made here (seeded), handed
over as Parquet, and Evidently's ``DataDriftPreset`` verdicts come back as JSON.

For every dataset the check requires the same per-column verdict, the same method, and the
same dataset verdict (share of drifted columns >= 0.5); values must agree within
``TOLERANCE`` (see docs/monitoring.md). Exit status 1 on any disagreement.

Usage: ``.venv/bin/python -m bench.evidently_parity [--venv DIR] [--rebuild]``
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import venv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from driftline.stats.evidently_mode import evidently_compare
from driftline.stats.profile import profile_frame

EVIDENTLY = ["evidently==0.7.23", "pandas<3", "pyarrow"]
DEFAULT_VENV = Path(__file__).resolve().parents[1] / ".driftline" / "evidently-venv"
METHODS = {
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
}
TOLERANCE = {  # (absolute, relative) on the p-value or distance
    "exact": (1e-9, 1e-9),
    # Wasserstein of a reference above 2000 values uses the profile's 2000-value sample:
    # its sampling error is about 1/sqrt(2000) ~ 0.02 reference sd
    "sampled": (0.05, 0.0),
}
PEER = r"""
import json, sys, warnings
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
warnings.filterwarnings("ignore")
folder, names = sys.argv[1], sys.argv[2:]
out = {}
for name in names:
    ref = pd.read_parquet(f"{folder}/{name}-ref.parquet")
    cur = pd.read_parquet(f"{folder}/{name}-cur.parquet")
    snapshot = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
    columns, share = {}, None
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith("DriftedColumnsCount"):
            share = metric["value"]["share"]
        elif config["type"].endswith("ValueDrift"):
            columns[config["column"]] = {"method": config["method"], "value": metric["value"],
                                         "threshold": config["threshold"]}
    out[name] = {"columns": columns, "share": share}
print(json.dumps(out))
"""


def _frame(rows: int, seed: int, spec: dict[str, Callable[[np.random.Generator, int], object]]):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({name: make(rng, rows) for name, make in spec.items()})


def _normal(shift: float = 0.0, scale: float = 1.0):
    return lambda rng, n: rng.normal(10 + shift, scale, n)


def _cats(values: list[str], p: list[float]):
    return lambda rng, n: rng.choice(values, n, p=p)


def _ints(high: int, p: list[float] | None = None):
    return lambda rng, n: rng.choice(np.arange(high), n, p=p)


def datasets() -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """(reference, current) pairs: numeric, categorical and mixed; small and large; shifted."""
    numeric = {"a": _normal(), "b": _normal(scale=3), "c": lambda r, n: r.exponential(2, n)}
    moved = {"a": _normal(0.4), "b": _normal(scale=3), "c": lambda r, n: r.exponential(3, n)}
    cats = {
        "plan": _cats(["basic", "pro", "team"], [0.5, 0.3, 0.2]),
        "flag": _cats(["yes", "no"], [0.7, 0.3]),
        "tier": _ints(4, [0.4, 0.3, 0.2, 0.1]),
        "level": lambda r, n: r.choice([0.5, 1.5, 2.5], n),
        "rooms": _ints(8),  # an integer with <= 10 values: categorical for Evidently
    }
    cats_moved = {
        "plan": _cats(["basic", "pro", "team"], [0.3, 0.3, 0.4]),
        "flag": _cats(["yes", "no"], [0.5, 0.5]),
        "tier": _ints(4, [0.4, 0.3, 0.2, 0.1]),
        "level": lambda r, n: r.choice([0.5, 1.5, 2.5], n, p=[0.6, 0.2, 0.2]),
        "rooms": _ints(8, [0.2, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]),
    }
    unseen = {**cats, "plan": _cats(["basic", "pro", "team", "new"], [0.4, 0.3, 0.2, 0.1])}
    mixed, mixed_moved = {**numeric, **cats}, {**moved, **cats_moved}
    pairs: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    for size, ref_rows in (("small", 800), ("large", 5000)):
        for name, base, shifted in (("numeric", numeric, moved), ("categorical", cats, cats_moved),
                                    ("mixed", mixed, mixed_moved)):  # fmt: skip
            reference = _frame(ref_rows, 1, base)
            pairs[f"{name}-{size}-same"] = (reference, _frame(400, 2, base))
            pairs[f"{name}-{size}-shifted"] = (reference, _frame(400, 3, shifted))
        pairs[f"categorical-{size}-unseen"] = (_frame(ref_rows, 1, cats), _frame(400, 4, unseen))
    partial = {**mixed, "a": _normal(1.0), "plan": cats_moved["plan"]}
    pairs["mixed-small-partial"] = (_frame(900, 1, mixed), _frame(400, 5, partial))
    return pairs


def run_evidently(pairs: dict, python: Path) -> dict:
    """Evidently's per-column method, value and threshold, and its drifted share."""
    with tempfile.TemporaryDirectory() as folder:
        for name, (reference, current) in pairs.items():
            reference.to_parquet(f"{folder}/{name}-ref.parquet")
            current.to_parquet(f"{folder}/{name}-cur.parquet")
        peer = Path(folder) / "peer.py"
        peer.write_text(PEER)
        done = subprocess.run(
            [str(python), str(peer), folder, *pairs], capture_output=True, text=True, check=True
        )
    return json.loads(done.stdout)


def run_driftline(reference: pd.DataFrame, current: pd.DataFrame) -> dict:
    """Driftline's evidently mode on the reference's profile."""
    profile = profile_frame(reference, sha256="0" * 64)
    columns = {
        r.feature: {"method": r.method, "drifted": r.drifted,
                    "value": r.p_value if r.p_value is not None else r.statistic}
        for r in evidently_compare(profile, current)
    }  # fmt: skip
    share = sum(c["drifted"] for c in columns.values()) / len(columns)
    return {"columns": columns, "share": share}


def compare(name: str, reference: pd.DataFrame, ours: dict, theirs: dict) -> list[dict]:
    """One row per column: methods, values, verdicts, and whether they agree."""
    rows = []
    for column, peer in theirs["columns"].items():
        mine = ours["columns"].get(column)
        method = METHODS.get(peer["method"], peer["method"])
        p_value = peer["method"].endswith("p_value")
        drifted = (
            peer["value"] < peer["threshold"] if p_value else peer["value"] >= peer["threshold"]
        )
        kind = "sampled" if method == "wasserstein" and len(reference) > 2000 else "exact"
        absolute, relative = TOLERANCE[kind]
        close = mine is not None and math.isclose(
            mine["value"], peer["value"], abs_tol=absolute, rel_tol=relative
        )
        rows.append({
            "dataset": name, "column": column, "evidently": method,
            "driftline": mine and mine["method"],
            "value_evidently": peer["value"], "value_driftline": mine and mine["value"],
            "drift_evidently": drifted, "drift_driftline": mine and mine["drifted"], "close": close,
            "ok": bool(mine and mine["method"] == method and mine["drifted"] == drifted and close),
        })  # fmt: skip
    return rows


def ensure_venv(path: Path, *, rebuild: bool = False) -> Path:
    """The Evidently venv's python, building the venv on first use."""
    python = path / "bin" / "python"
    if rebuild or not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(path)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *EVIDENTLY], check=True)
    return python


def main(argv: list[str] | None = None) -> int:
    """Run both sides, print a table and the dataset verdicts; 1 on any disagreement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    pairs = datasets()
    theirs = run_evidently(pairs, ensure_venv(args.venv, rebuild=args.rebuild))
    failures = 0
    print("| dataset | column | method | Evidently | Driftline | drift (E/D) | agree |")
    print("|---|---|---|---|---|---|---|")
    for name, (reference, current) in pairs.items():
        ours = run_driftline(reference, current)
        for row in compare(name, reference, ours, theirs[name]):
            failures += not row["ok"]
            print(f"| {name} | {row['column']} | {row['evidently']}/{row['driftline']} | "
                  f"{row['value_evidently']:.6g} | {row['value_driftline']:.6g} | "
                  f"{row['drift_evidently']:d}/{row['drift_driftline']:d} | "
                  f"{'yes' if row['ok'] else 'NO'} |")  # fmt: skip
        dataset_e, dataset_d = theirs[name]["share"] >= 0.5, ours["share"] >= 0.5
        failures += dataset_e != dataset_d
        print(f"| {name} | (dataset) | share >= 0.5 | {theirs[name]['share']:.3f} | "
              f"{ours['share']:.3f} | {dataset_e:d}/{dataset_d:d} | "
              f"{'yes' if dataset_e == dataset_d else 'NO'} |")  # fmt: skip
    print(f"\n{failures} disagreement(s) over {len(pairs)} datasets", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
