"""The model spec: valid specs parse with defaults; invalid ones name the field at fault."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from driftline_contracts.modelspec import ModelSpec, spec_hash

BASE = {
    "model": "churn",
    "dataset": "telco-churn",
    "target": "churn",
    "task": "classification",
    "trainer": {"estimator": "sklearn.linear_model.LogisticRegression", "params": {"C": 1.0}},
}


def test_minimal_spec_gets_documented_defaults() -> None:
    spec = ModelSpec.model_validate(BASE)
    assert spec.split.holdout == 0.2
    assert spec.split.seed == 42
    assert spec.canary.steps == [5.0, 25.0, 50.0, 100.0]
    assert spec.approval == "automatic"
    assert spec.drift.method == "driftline"


def test_hash_is_stable_and_changes_with_content() -> None:
    a, b = ModelSpec.model_validate(BASE), ModelSpec.model_validate(dict(reversed(BASE.items())))
    assert spec_hash(a) == spec_hash(b)
    changed = ModelSpec.model_validate({**BASE, "split": {"seed": 7}})
    assert spec_hash(changed) != spec_hash(a)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"task": "ranking"}, "task"),
        ({"model": "Bad Name"}, "model"),
        ({"trainer": {"params": {}}}, "trainer"),
        ({"trainer": {"estimator": "a.B", "function": "m:f"}}, "trainer"),
        ({"gates": [{"metric": "accuracy"}]}, "gates"),
        ({"split": {"holdout": 1.5}}, "split.holdout"),
        ({"features": ["tenure", "churn"]}, "target"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_invalid_spec_names_the_field(patch: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        ModelSpec.model_validate({**BASE, **patch})
    assert field.split(".")[0] in str(err.value)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            {"gates": [{"metric": "accuracy", "min": 0.5}, {"metric": "acuracy", "min": 0.5}]},
            "gates[1].metric: 'acuracy' is not a classification metric (did you mean 'accuracy'?)",
        ),
        (
            {"gates": [{"metric": "rmse", "max": 1.0}]},
            "gates[0].metric: 'rmse' is not a classification metric; known: accuracy, f1, roc_auc",
        ),
        (
            {"metrics": ["accuracy"], "gates": [{"metric": "f1", "min": 0.5}]},
            "gates[0].metric: 'f1' is not a metric this spec records; known: accuracy",
        ),
        (
            {"task": "regression", "metrics": ["rmse", "r_2"]},
            "metrics[1]: 'r_2' is not a regression metric (did you mean 'r2'?)",
        ),
    ],
)
def test_metric_names_are_checked_against_the_task_with_a_suggestion(
    patch: dict, message: str
) -> None:
    """A gate on a metric training never records would reject every version it judges."""
    with pytest.raises(ValidationError) as err:
        ModelSpec.model_validate({**BASE, **patch})
    assert message in str(err.value)


def test_regression_gates_on_regression_metrics_are_accepted() -> None:
    spec = ModelSpec.model_validate(
        {**BASE, "task": "regression", "gates": [{"metric": "rmse", "max": 2.0}]}
    )
    assert spec.gates[0].metric == "rmse"


def test_the_serving_runtime_defaults_to_sklearn_and_keeps_old_hashes() -> None:
    spec = ModelSpec.model_validate(BASE)
    assert spec.serving.runtime == "sklearn"
    onnx = ModelSpec.model_validate({**BASE, "serving": {"runtime": "onnx"}})
    explicit = ModelSpec.model_validate({**BASE, "serving": {"runtime": "sklearn"}})
    assert spec_hash(explicit) == spec_hash(spec) != spec_hash(onnx)
    with pytest.raises(ValidationError, match=r"serving\.runtime"):
        ModelSpec.model_validate({**BASE, "serving": {"runtime": "tensorrt"}})
