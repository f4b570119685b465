"""Pure training: a DataFrame and a model spec in, a fitted model and its holdout metrics out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from driftline.runtime.trainer_policy import TrainerNotAllowedError, TrainerPolicy
from driftline.training import evaluation
from driftline.training.preprocessing import with_preprocessing
from driftline_contracts.modelspec import ModelSpec


class TrainingError(Exception):
    """A run that cannot produce a model; ``code`` is the TrainingFailed reason code."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True)
class TrainedModel:
    """A fitted model with what the run learnt about it on the holdout."""

    estimator: Any
    metrics: dict[str, float]
    params: dict[str, Any]
    features: list[str]
    train_rows: int
    holdout_rows: int
    feature_importance: dict[str, float] | None
    confusion: dict[str, Any] | None


def feature_columns(frame: pd.DataFrame, spec: ModelSpec) -> list[str]:
    """The spec's features, else every column but the target (and the split's time column)."""
    if spec.features is not None:
        missing = [c for c in spec.features if c not in frame.columns]
        if missing:
            raise TrainingError("missing_feature", f"feature columns absent: {missing[:20]}")
        return list(spec.features)
    skip = {spec.target, spec.split.time_column}
    return [str(c) for c in frame.columns if c not in skip]


def checked_target(frame: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    """Rows with a target; ``bad_target`` when it is missing, all null or constant."""
    target = spec.target
    if target not in frame.columns:
        raise TrainingError("bad_target", f"target column {target!r} is missing", target)
    labelled = frame[frame[target].notna()]
    if labelled.empty:
        raise TrainingError("bad_target", f"target column {target!r} is all null", target)
    if labelled[target].nunique() < 2:
        raise TrainingError("bad_target", f"target column {target!r} is constant", target)
    if spec.task == "regression" and not pd.api.types.is_numeric_dtype(labelled[target]):
        raise TrainingError("bad_target", f"regression target {target!r} is not numeric", target)
    return labelled.reset_index(drop=True)


def split(frame: pd.DataFrame, spec: ModelSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded holdout split (stratified for classification), or the newest rows by time."""
    holdout, seed, time_column = spec.split.holdout, spec.split.seed, spec.split.time_column
    if time_column is not None:
        if time_column not in frame.columns:
            raise TrainingError("missing_feature", f"time column {time_column!r} is absent")
        ordered = frame.sort_values(time_column, kind="stable").reset_index(drop=True)
        cut = len(ordered) - max(1, round(len(ordered) * holdout))
        return ordered.iloc[:cut], ordered.iloc[cut:]
    labels = frame[spec.target]
    stratify = None
    if spec.task == "classification" and labels.value_counts().min() >= 2:
        stratify = labels
    try:
        train, test = train_test_split(
            frame, test_size=holdout, random_state=seed, stratify=stratify
        )
    except ValueError as exc:
        raise TrainingError("bad_target", f"cannot split the data: {exc}", spec.target) from exc
    return train, test


def allowed(spec: ModelSpec, policy: TrainerPolicy) -> None:
    """``trainer_not_allowed`` unless the policy allows the spec's estimator or plug-in."""
    try:
        policy.check(spec.trainer)
    except TrainerNotAllowedError as exc:
        raise TrainingError(exc.code, exc.message, exc.field) from exc


def build_estimator(spec: ModelSpec, policy: TrainerPolicy) -> Any:
    """The spec's allowed estimator with its params, seeded when it takes ``random_state``."""
    try:
        cls = policy.estimator_class(spec.trainer)
    except TrainerNotAllowedError as exc:
        raise TrainingError(exc.code, exc.message, exc.field) from exc
    try:
        estimator = cls(**spec.trainer.params)
        if "random_state" in estimator.get_params() and "random_state" not in spec.trainer.params:
            estimator.set_params(random_state=spec.split.seed)
        return clone(estimator)
    except Exception as exc:
        raise TrainingError("trainer_error", f"cannot build {cls!r}: {exc}") from exc


def user_function(spec: ModelSpec, policy: TrainerPolicy) -> Any:
    """The installed trainer plug-in the spec names (never an import path)."""
    try:
        return policy.function(spec.trainer)
    except TrainerNotAllowedError as exc:
        raise TrainingError(exc.code, exc.message, exc.field) from exc
    except Exception as exc:
        message = f"cannot load trainer plug-in {spec.trainer.function!r}: {exc}"
        raise TrainingError("trainer_error", message, "trainer.function") from exc


def fit(spec: ModelSpec, train: pd.DataFrame, features: list[str], policy: TrainerPolicy) -> Any:
    """Fit the allowed estimator (inside preprocessing) or call the installed plug-in."""
    try:
        if spec.trainer.function is not None:
            function = user_function(spec, policy)
            return function(train.copy(), spec.model_dump(mode="json"))
        model = with_preprocessing(build_estimator(spec, policy), train[features])
        return model.fit(train[features], train[spec.target])
    except TrainingError:
        raise
    except MemoryError as exc:
        raise TrainingError("resource_limit", "out of memory while fitting") from exc
    except Exception as exc:
        raise TrainingError("trainer_error", f"fit failed: {type(exc).__name__}: {exc}") from exc


def train_model(frame: pd.DataFrame, spec: ModelSpec, policy: TrainerPolicy) -> TrainedModel:
    """Fit on the seeded training split and evaluate on the holdout (the trainer checked
    against ``policy`` first: nothing a refused spec names is imported or called)."""
    allowed(spec, policy)
    labelled = checked_target(frame, spec)
    features = feature_columns(labelled, spec)
    train, test = split(labelled, spec)
    estimator = fit(spec, train, features, policy)
    x_test, y_test = test[features], test[spec.target]
    try:
        if spec.task == "classification":
            values = evaluation.classification_metrics(estimator, x_test, y_test)
            matrix = evaluation.confusion(estimator, x_test, y_test)
        else:
            values, matrix = evaluation.regression_metrics(estimator, x_test, y_test), None
    except Exception as exc:
        raise TrainingError("trainer_error", f"evaluation failed: {exc}") from exc
    return TrainedModel(
        estimator=estimator,
        metrics=evaluation.selected(values, spec.metrics),
        params=hyperparameters(estimator, spec),
        features=features,
        train_rows=len(train),
        holdout_rows=len(test),
        feature_importance=evaluation.feature_importance(estimator, features),
        confusion=matrix,
    )


def hyperparameters(estimator: Any, spec: ModelSpec) -> dict[str, Any]:
    """The final estimator's own parameters as JSON scalars (others as short text)."""
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    if not hasattr(final, "get_params"):
        return {k: _scalar(v) for k, v in spec.trainer.params.items()}
    return {k: _scalar(v) for k, v in sorted(final.get_params(deep=False).items())}


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value if not isinstance(value, str) else value[:256]
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    return repr(value)[:256]
