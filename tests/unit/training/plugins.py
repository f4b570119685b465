"""User training functions, importable by path from training processes."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler


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
