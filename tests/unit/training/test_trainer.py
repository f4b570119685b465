"""Pure training: determinism, metrics, preprocessing, plug-ins and typed failures."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from driftline.training.trainer import TrainingError, train_model
from tests.unit.training.builders import cancer, mixed, policy, spec


def test_same_seed_gives_identical_metrics_and_predictions() -> None:
    frame = cancer()
    first, second = train_model(frame, spec(), policy()), train_model(frame, spec(), policy())
    assert first.metrics == second.metrics
    features = frame.drop(columns="target")
    np.testing.assert_array_equal(
        first.estimator.predict_proba(features), second.estimator.predict_proba(features)
    )


def test_another_seed_cuts_another_holdout() -> None:
    frame = cancer()
    seeded = spec(split={"seed": 7})
    assert (
        train_model(frame, seeded, policy()).metrics != train_model(frame, spec(), policy()).metrics
    )


def test_classification_metrics_on_a_stratified_holdout() -> None:
    trained = train_model(cancer(), spec(), policy())
    assert set(trained.metrics) == {"accuracy", "f1", "roc_auc", "log_loss"}
    assert trained.metrics["accuracy"] > 0.9
    assert trained.holdout_rows == math.ceil(569 * 0.2)
    assert trained.train_rows + trained.holdout_rows == 569
    assert trained.params["random_state"] == 42
    assert trained.params["n_estimators"] == 20
    assert trained.confusion is not None
    assert sum(map(sum, trained.confusion["matrix"])) == trained.holdout_rows
    assert trained.feature_importance is not None
    assert len(trained.feature_importance) == 30


def test_regression_metrics_match_sklearn() -> None:
    frame = cancer()
    regression = spec(
        target="mean_area",
        task="regression",
        trainer={"estimator": "sklearn.linear_model.Ridge"},
        split={"time_column": "mean_radius"},
    )
    trained = train_model(frame, regression, policy())
    holdout = frame.sort_values("mean_radius", kind="stable").tail(trained.holdout_rows)
    features = holdout[trained.features]
    predicted = trained.estimator.predict(features)
    assert "mean_radius" not in trained.features
    assert trained.metrics["mae"] == pytest.approx(
        skm.mean_absolute_error(holdout["mean_area"], predicted)
    )
    assert trained.metrics["rmse"] == pytest.approx(
        math.sqrt(skm.mean_squared_error(holdout["mean_area"], predicted))
    )
    assert set(trained.metrics) == {"rmse", "mae", "r2"}


def test_metrics_can_be_narrowed_by_the_spec() -> None:
    trained = train_model(cancer(), spec(metrics=["accuracy"]), policy())
    assert list(trained.metrics) == ["accuracy"]


def test_text_columns_and_gaps_are_preprocessed() -> None:
    trained = train_model(mixed(), spec(target="label"), policy())
    assert trained.metrics["accuracy"] > 0.8
    assert any(name.startswith("categorical__plan_") for name in trained.feature_importance or {})


def test_user_function_trains_the_model() -> None:
    user = spec(trainer={"function": "train_logistic"})
    trained = train_model(cancer(), user, policy())
    assert trained.metrics["accuracy"] > 0.85
    assert trained.params["max_iter"] == 500


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.drop(columns="target"), "missing"),
        (lambda f: f.assign(target=np.nan), "all null"),
        (lambda f: f.assign(target=1), "constant"),
    ],
)
def test_unusable_target_is_bad_target(mutate, message) -> None:
    with pytest.raises(TrainingError) as raised:
        train_model(mutate(cancer()), spec(), policy())
    assert raised.value.code == "bad_target"
    assert message in raised.value.message
    assert raised.value.field == "target"


@pytest.mark.parametrize(
    ("trainer", "message"),
    [
        ({"estimator": "sklearn.svm.SVC", "params": {"kernel": "bogus"}}, "fit failed"),
        ({"function": "explode"}, "user code is broken"),
    ],
)
def test_broken_trainers_are_trainer_errors(trainer, message) -> None:
    with pytest.raises(TrainingError) as raised:
        train_model(cancer(), spec(trainer=trainer), policy())
    assert raised.value.code == "trainer_error"
    assert message in raised.value.message


def test_missing_feature_is_reported() -> None:
    with pytest.raises(TrainingError) as raised:
        train_model(cancer(), spec(features=["mean_radius", "absent"]), policy())
    assert raised.value.code == "missing_feature"


def test_an_allowed_path_that_does_not_import_is_a_trainer_not_allowed() -> None:
    listed = policy(extra_estimators=["sklearn.ensemble.NoSuchForest"])
    with pytest.raises(TrainingError) as raised:
        train_model(cancer(), spec(trainer={"estimator": "sklearn.ensemble.NoSuchForest"}), listed)
    assert raised.value.code == "trainer_not_allowed"
    assert "cannot import" in raised.value.message
