"""Trainer plug-ins of the tests: functions registered as ``driftline.trainers`` entry points
by the distribution in ``trainer_plugins/`` (installed when that folder is on ``sys.path``)."""

from __future__ import annotations

import functools
import json
import os
import time
from importlib.metadata import EntryPoint, distributions
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

PLUGIN_PATH = Path(__file__).parent / "trainer_plugins"
"""Folder holding the test distribution's dist-info; on PYTHONPATH it installs the plug-ins."""


def listed_trainers() -> list[EntryPoint]:
    """The test distribution's trainer entry points, as if it were installed."""
    return [
        ep
        for dist in distributions(path=[str(PLUGIN_PATH)])
        for ep in dist.entry_points
        if ep.group == "driftline.trainers"
    ]


def train_logistic(train: pd.DataFrame, spec: dict[str, Any]) -> Pipeline:
    """A user function: scales the numeric features and fits a logistic regression."""
    features = [c for c in train.columns if c != spec["target"]]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    return model.fit(train[features], train[spec["target"]])


def explode(train: pd.DataFrame, spec: dict[str, Any]) -> None:
    """A user function that fails."""
    raise RuntimeError("user code is broken")


def sleep_forever(train: pd.DataFrame, spec: dict[str, Any]) -> None:
    """A user function that never finishes in time."""
    time.sleep(60)


def slow_logistic(train: pd.DataFrame, spec: dict[str, Any]) -> Pipeline:
    """A deterministic user function that waits ``trainer.params.sleep_s`` seconds, then fits."""
    time.sleep(float(spec["trainer"]["params"].get("sleep_s", 0)))
    return train_logistic(train, spec)


def partial_transform(train: pd.DataFrame, spec: dict[str, Any]) -> Pipeline:
    """A user function whose model holds a ``functools.partial``: it fits, skops saves it,
    and deployment's safe loader refuses it (the run must fail as ``unservable_model``)."""
    features = [c for c in train.columns if c != spec["target"]]
    scale = FunctionTransformer(functools.partial(np.multiply, 2.0))
    # Newton's method: lbfgs ran its 500 iterations on these unscaled features (~12 s).
    model = make_pipeline(scale, LogisticRegression(solver="newton-cholesky"))
    return model.fit(train[features], train[spec["target"]])


def hog_memory(train: pd.DataFrame, spec: dict[str, Any]) -> None:
    """A plug-in that maps 4 GiB at once (untouched, so harmless if no limit stops it)."""
    np.empty(4 * 1024**3, dtype=np.uint8)


def spin(train: pd.DataFrame, spec: dict[str, Any]) -> None:
    """A plug-in that burns CPU for a minute (a CPU limit must stop it)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pass


def snoop(train: pd.DataFrame, spec: dict[str, Any]) -> None:
    """A plug-in looking for the service's credentials everywhere a process can look: its own
    environment, its parent's and the service's ``/proc/<pid>/environ``, every other readable
    ``environ``, and the file at ``trainer.params.secrets_file``. It fails with what it saw."""
    params = spec["trainer"]["params"]
    markers = list(params["markers"])
    forkserver = os.getppid()
    places = {
        "os.environ": lambda: "\n".join(f"{k}={v}" for k, v in os.environ.items()),
        "own environ": lambda: _read("/proc/self/environ"),
        "parent environ": lambda: _read(f"/proc/{forkserver}/environ"),
        "parent cmdline": lambda: _read(f"/proc/{forkserver}/cmdline"),
        "service environ": lambda: _read(f"/proc/{_parent_of(forkserver)}/environ"),
        "service memory": lambda: _read_memory(_parent_of(forkserver)),
        "secrets file": lambda: _read(params["secrets_file"]),
    }
    seen = {name: _look(read, markers) for name, read in places.items()}
    seen["any environ"] = _scan_environs(markers)
    seen["open files"] = sorted({_target(fd) for fd in os.listdir("/proc/self/fd")})
    raise RuntimeError("SNOOP" + json.dumps(seen))


def _read(path: str) -> str:
    with open(path, "rb") as file:
        return file.read().decode(errors="replace")


def _parent_of(pid: int) -> int:
    status = _read(f"/proc/{pid}/status")
    return int(next(line for line in status.splitlines() if line.startswith("PPid:")).split()[1])


def _read_memory(pid: int) -> str:
    """The top of ``pid``'s stack, where the environment it was started with lives."""
    maps = _read(f"/proc/{pid}/maps").splitlines()
    region = next(line for line in maps if line.endswith("[stack]"))
    start, end = (int(bound, 16) for bound in region.split()[0].split("-"))
    with open(f"/proc/{pid}/mem", "rb") as memory:
        first = max(start, end - (1 << 20))
        memory.seek(first)
        return memory.read(end - first).decode(errors="replace")


def _look(read: Any, markers: list[str]) -> str:
    try:
        text = read()
    except OSError as exc:
        return f"refused: {type(exc).__name__}"
    return "found" if any(marker in text for marker in markers) else "nothing"


def _scan_environs(markers: list[str]) -> list[int]:
    """Every process whose ``environ`` this process can read and that holds a marker."""
    pids = [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]
    return [
        pid
        for pid in pids
        if _look(lambda pid=pid: _read(f"/proc/{pid}/environ"), markers) == "found"
    ]


def _target(fd: str) -> str:
    """What an open descriptor is, without naming pipes and sockets individually."""
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return "gone"
    return target.split(":", 1)[0] if target.startswith(("pipe:", "socket:")) else target
