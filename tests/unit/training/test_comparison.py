"""The paired bootstrap: same rows for both models, seeded, metrics as scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from driftline.training.comparison import Outputs, paired_bootstrap, subsample

CLASSIFICATION = ["accuracy", "f1", "roc_auc", "log_loss"]
REGRESSION = ["rmse", "mae", "r2"]


def _classifiers(rows: int = 400, seed: int = 0) -> tuple[np.ndarray, Outputs, Outputs]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, rows)
    good = np.clip(truth * 0.5 + rng.random(rows) * 0.5, 0.01, 0.99)
    poor = np.clip(truth * 0.2 + rng.random(rows) * 0.8, 0.01, 0.99)
    as_outputs = [Outputs((p > 0.5).astype(int), np.c_[1 - p, p], (0, 1)) for p in (good, poor)]
    return truth, as_outputs[0], as_outputs[1]


def test_a_hand_checkable_case_every_row_better_by_one() -> None:
    truth = np.array([1.0, 2.0, 3.0, 4.0])
    candidate = Outputs(truth + 1.0)  # error 1 on every row
    champion = Outputs(truth + 2.0)  # error 2 on every row
    (rmse, mae) = paired_bootstrap("regression", truth, candidate, champion, ["rmse", "mae"],
                                   seed=1, resamples=200)  # fmt: skip
    for found in (rmse, mae):
        assert (found.candidate, found.champion, found.delta) == (1.0, 2.0, -1.0)
        # every resample has the same paired difference: the interval is that one point
        assert found.interval_low == pytest.approx(-1.0)
        assert found.interval_high == pytest.approx(-1.0)


def test_identical_models_are_a_tie_at_zero() -> None:
    truth, candidate, _ = _classifiers()
    found = paired_bootstrap("classification", truth, candidate, candidate, CLASSIFICATION,
                             seed=3, resamples=100)  # fmt: skip
    assert [f.metric for f in found] == CLASSIFICATION
    assert all(f.delta == f.interval_low == f.interval_high == 0 for f in found)


def test_the_same_seed_gives_the_same_interval_and_another_seed_another() -> None:
    truth, a, b = _classifiers()
    first = paired_bootstrap("classification", truth, a, b, ["accuracy"], seed=7)
    again = paired_bootstrap("classification", truth, a, b, ["accuracy"], seed=7)
    other = paired_bootstrap("classification", truth, a, b, ["accuracy"], seed=8)
    assert first == again
    assert (first[0].interval_low, first[0].interval_high) != (
        other[0].interval_low, other[0].interval_high)  # fmt: skip


def test_full_holdout_scores_equal_scikit_learn() -> None:
    truth, a, b = _classifiers()
    found = {
        f.metric: f
        for f in paired_bootstrap(
            "classification", truth, a, b, CLASSIFICATION, seed=0, resamples=10
        )
    }
    expected = {
        "accuracy": skm.accuracy_score(truth, a.predicted),
        "f1": skm.f1_score(truth, a.predicted, average="macro"),
        "roc_auc": skm.roc_auc_score(truth, a.proba[:, 1]),  # type: ignore[index]
        "log_loss": skm.log_loss(truth, a.proba, labels=[0, 1]),
    }
    for metric, value in expected.items():
        assert found[metric].candidate == pytest.approx(value, rel=1e-9)
    assert found["accuracy"].champion == pytest.approx(skm.accuracy_score(truth, b.predicted))


def test_multiclass_and_string_labels_match_scikit_learn() -> None:
    rng = np.random.default_rng(2)
    labels = np.array(["a", "b", "c"])
    truth = labels[rng.integers(0, 3, 300)]
    proba = rng.dirichlet([1, 1, 1], 300)
    model = Outputs(labels[proba.argmax(axis=1)], proba, tuple(labels))
    (f1, auc) = paired_bootstrap("classification", truth, model, model, ["f1", "roc_auc"],
                                 seed=0, resamples=5)  # fmt: skip
    assert f1.candidate == pytest.approx(skm.f1_score(truth, model.predicted, average="macro"))
    expected_auc = skm.roc_auc_score(truth, proba, multi_class="ovr", labels=list(labels))
    assert auc.candidate == pytest.approx(expected_auc)


def test_regression_scores_equal_scikit_learn() -> None:
    rng = np.random.default_rng(4)
    truth = rng.normal(size=200)
    a, b = Outputs(truth + rng.normal(size=200)), Outputs(truth * 0.5)
    found = {
        f.metric: f
        for f in paired_bootstrap("regression", truth, a, b, REGRESSION, seed=0, resamples=10)
    }
    assert found["rmse"].candidate == pytest.approx(
        np.sqrt(skm.mean_squared_error(truth, a.predicted))
    )
    assert found["mae"].champion == pytest.approx(skm.mean_absolute_error(truth, b.predicted))
    assert found["r2"].candidate == pytest.approx(skm.r2_score(truth, a.predicted))


def test_a_clearly_better_model_has_an_interval_that_excludes_zero() -> None:
    truth, good, poor = _classifiers(rows=2000)
    (accuracy,) = paired_bootstrap("classification", truth, good, poor, ["accuracy"], seed=0)
    assert 0 < accuracy.interval_low <= accuracy.delta <= accuracy.interval_high


def test_a_metric_a_model_cannot_give_is_left_out() -> None:
    truth, a, _ = _classifiers()
    labels_only = Outputs(a.predicted)
    found = paired_bootstrap("classification", truth, a, labels_only, CLASSIFICATION, seed=0,
                             resamples=10)  # fmt: skip
    assert [f.metric for f in found] == ["accuracy", "f1"]


def test_large_holdouts_are_subsampled_reproducibly() -> None:
    assert list(subsample(5, seed=0)) == [0, 1, 2, 3, 4]
    rows = subsample(50_000, seed=3, limit=1000)
    assert len(set(rows.tolist())) == 1000
    assert list(rows) == list(subsample(50_000, seed=3, limit=1000))


def test_a_champion_predicting_a_class_the_holdout_lacks_still_compares_on_auc() -> None:
    truth, candidate, _ = _classifiers(rows=300)
    rng = np.random.default_rng(5)
    proba = rng.dirichlet([1, 1, 1], 300)
    champion = Outputs(np.array([0, 1, 2])[proba.argmax(axis=1)], proba, (0, 1, 2))
    found = {
        f.metric: f
        for f in paired_bootstrap(
            "classification", truth, candidate, champion, CLASSIFICATION, seed=0, resamples=50
        )
    }
    assert set(found) == set(CLASSIFICATION)
    assert all(np.isfinite([f.interval_low, f.interval_high]).all() for f in found.values())
    assert found["roc_auc"].candidate == pytest.approx(
        skm.roc_auc_score(truth, candidate.proba[:, 1])
    )  # type: ignore[index]
