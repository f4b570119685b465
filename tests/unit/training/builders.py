"""Frames and specs for the training unit tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer

from driftline.runtime.settings import TrainerSettings
from driftline.runtime.trainer_policy import TrainerPolicy, trainer_policy
from driftline_contracts.modelspec import ModelSpec
from tests.unit.training.plugins import listed_trainers


def cancer() -> pd.DataFrame:
    """sklearn's breast-cancer data, column names without spaces."""
    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    return frame


def mixed(rows: int = 300, seed: int = 0) -> pd.DataFrame:
    """Numbers with gaps, a text category and a label that depends on both."""
    rng = np.random.default_rng(seed)
    spend = rng.normal(100, 20, rows)
    plan = rng.choice(["basic", "pro", "team"], rows)
    label = ((spend > 100) | (plan == "pro")).astype(int)
    frame = pd.DataFrame({"spend": spend, "plan": plan, "day": np.arange(rows), "label": label})
    frame.loc[::17, "spend"] = np.nan
    frame.loc[::23, "plan"] = None
    return frame


def spec(**overrides: Any) -> ModelSpec:
    """A classification spec on ``target`` with a small random forest."""
    document: dict[str, Any] = {
        "model": "cancer-clf",
        "dataset": "cancer",
        "target": "target",
        "task": "classification",
        "trainer": {
            "estimator": "sklearn.ensemble.RandomForestClassifier",
            "params": {"n_estimators": 20},
        },
    }
    document.update(overrides)
    return ModelSpec.model_validate(document)


def policy(**settings: Any) -> TrainerPolicy:
    """The default estimator allow-list (or ``settings``) and the test trainer plug-ins."""
    return trainer_policy(TrainerSettings(**settings), plugins=listed_trainers)
