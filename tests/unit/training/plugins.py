"""Trainer plug-ins of the tests: functions registered as ``driftline.trainers`` entry points
by the distribution in ``trainer_plugins/`` (installed when that folder is on ``sys.path``)."""

from __future__ import annotations

import functools
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
    model = make_pipeline(scale, LogisticRegression(max_iter=500))
    return model.fit(train[features], train[spec["target"]])


def hog_memory(train: pd.DataFrame, spec: dict[str, Any]) -> None:
    """A plug-in that maps 4 GiB at once (untouched, so harmless if no limit stops it)."""
    np.empty(4 * 1024**3, dtype=np.uint8)


def spin(train: pd.DataFrame, spec: dict[str, Any]) -> None:
    """A plug-in that burns CPU for a minute (a CPU limit must stop it)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pass
