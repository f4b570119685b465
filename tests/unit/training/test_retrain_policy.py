"""Only fields that change training retrain; the same spec after a failure retries."""

from __future__ import annotations

from typing import Any

import pytest

from driftline.training.core import SpecRecord
from driftline.training.retrain_policy import training_hash, trains
from tests.unit.training.builders import spec


def record(**changes: Any) -> SpecRecord:
    document = spec(**changes).model_dump(mode="json")
    return SpecRecord("cancer-clf", "cancer", "h" * 64, document)


@pytest.mark.parametrize(
    "changes",
    [
        {"expectations": {"mean_radius": {"min": 0}}},
        {"canary": {"steps": [10.0, 100.0]}},
        {"drift": {"alpha": 0.01}},
        {"gates": [{"metric": "accuracy", "min": 0.9}]},
        {"approval": "manual"},
    ],
)
def test_changing_what_only_other_services_read_does_not_retrain(changes: dict) -> None:
    before, after = record(), record(**changes)
    assert before.spec != after.spec
    assert training_hash(before.spec) == training_hash(after.spec)
    assert not trains(after, before, "succeeded")
    assert not trains(after, before, "running")
    assert not trains(after, before, "queued")


@pytest.mark.parametrize(
    "changes",
    [
        {
            "trainer": {
                "estimator": "sklearn.ensemble.RandomForestClassifier",
                "params": {"n_estimators": 50},
            }
        },
        {"features": ["mean_radius", "mean_texture"]},
        {"target": "other"},
        {"split": {"seed": 7}},
        {"split": {"holdout": 0.3}},
        {"metrics": ["accuracy"]},
        {"dataset": "cancer-v2"},
        {"window": {"versions": "last", "last": 2}},
        {"window": {"max_rows": 500}},
        {"serving": {"runtime": "onnx"}},  # the run exports and checks the ONNX model
    ],
)
def test_changing_a_training_field_retrains(changes: dict) -> None:
    before, after = record(), record(**changes)
    assert training_hash(before.spec) != training_hash(after.spec)
    assert trains(after, before, "succeeded")


def test_the_same_training_after_a_failure_is_retried() -> None:
    assert trains(record(), record(), "failed")
    assert trains(record(drift={"alpha": 0.01}), record(), "failed")


def test_a_first_spec_or_data_never_trained_on_trains() -> None:
    assert trains(record(), None, None)
    assert trains(record(), record(), None)


def test_the_hash_ignores_key_order() -> None:
    document = record().spec
    assert training_hash(dict(reversed(list(document.items())))) == training_hash(document)


def test_a_spec_stored_before_windows_existed_has_the_same_training_hash() -> None:
    """Upgrading the platform does not retrain every model: no window = the default one."""
    now = record().spec
    before = {k: v for k, v in now.items() if k != "window"}
    assert "window" in now
    assert training_hash(before) == training_hash(now)


def test_a_spec_stored_before_serving_runtimes_existed_has_the_same_training_hash() -> None:
    now = record().spec
    before = {k: v for k, v in now.items() if k != "serving"}
    assert now["serving"]["runtime"] == "sklearn"
    assert training_hash(before) == training_hash(now)
