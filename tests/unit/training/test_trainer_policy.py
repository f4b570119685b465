"""The trainer policy: which estimators and plug-ins a spec may name, and with which params."""

from __future__ import annotations

import contextlib
import importlib
import pickle
import sys
import warnings
from typing import Any

import numpy as np
import pytest
from sklearn.base import BaseEstimator, is_classifier, is_regressor

from driftline.runtime.settings import RuntimeSettings, TrainerSettings
from driftline.runtime.trainer_policy import (
    TrainerNotAllowedError,
    TrainerPolicy,
    booster_estimators,
    constructor_parameters,
    default_estimators,
    trainer_policy,
)
from driftline_contracts.modelspec import TrainerSpec
from tests.unit.training.builders import policy
from tests.unit.training.plugins import listed_trainers, train_logistic

CANARY = "tests.unit.training.import_canary"


def _refusal(
    trainer: dict[str, Any], allowed: TrainerPolicy | None = None
) -> TrainerNotAllowedError:
    with pytest.raises(TrainerNotAllowedError) as raised:
        (allowed or policy()).check(TrainerSpec.model_validate(trainer))
    return raised.value


def test_the_default_list_is_sklearn_classifiers_and_regressors_from_public_modules() -> None:
    allowed = default_estimators()
    assert {
        "sklearn.ensemble.RandomForestClassifier",
        "sklearn.linear_model.LogisticRegression",
        "sklearn.linear_model.Ridge",
        "sklearn.dummy.DummyClassifier",
        "sklearn.neural_network.MLPClassifier",
    } <= allowed
    for path in allowed:
        module, _, name = path.rpartition(".")
        assert "._" not in f".{module}", path
        cls = getattr(importlib.import_module(module), name)  # the list imports nothing
        assert issubclass(cls, BaseEstimator), path
        assert is_classifier(cls()) or is_regressor(cls()), path


@pytest.mark.parametrize(
    "path",
    [
        "sklearn.preprocessing.FunctionTransformer",  # calls a function it is given
        "sklearn.compose.TransformedTargetRegressor",  # ditto (func / inverse_func)
        "sklearn.pipeline.Pipeline",  # memory: a cache folder of pickles
        "sklearn.ensemble.StackingClassifier",  # built from estimator objects
        "sklearn.ensemble.AdaBoostClassifier",  # takes an estimator object
        "sklearn.multiclass.OneVsRestClassifier",
        "sklearn.utils._testing.MinimalClassifier",  # private test helper
        "sklearn.linear_model._logistic.LogisticRegression",  # private path of a public class
    ],
)
def test_meta_estimators_and_private_paths_are_not_on_the_default_list(path: str) -> None:
    assert path not in default_estimators()
    assert _refusal({"estimator": path}).field == "trainer.estimator"


@pytest.mark.parametrize(
    "path",
    ["subprocess.Popen", "subprocess:Popen", "os.system", "builtins.eval", "posix.system"],
)
def test_code_execution_paths_are_refused_naming_the_field(path: str) -> None:
    refused = _refusal({"estimator": path, "params": {"args": ["/bin/sh", "-c", "id"]}})
    assert refused.field == "trainer.estimator"
    assert refused.code == "trainer_not_allowed"
    assert f"{path!r} is not an allowed estimator" in refused.message


def test_a_refused_path_is_never_imported() -> None:
    sys.modules.pop(CANARY, None)
    _refusal({"estimator": f"{CANARY}.Boom"})
    _refusal({"estimator": f"{CANARY}:Boom"})
    _refusal({"function": f"{CANARY}:boom"})
    assert CANARY not in sys.modules


def test_a_near_miss_names_the_allowed_estimator() -> None:
    refused = _refusal({"estimator": "sklearn.ensemble.RandomForestClassifer"})
    assert "did you mean 'sklearn.ensemble.RandomForestClassifier'" in refused.message


def test_colon_paths_of_allowed_estimators_are_accepted() -> None:
    trainer = TrainerSpec(estimator="sklearn.ensemble:RandomForestClassifier")
    assert policy().estimator_class(trainer).__name__ == "RandomForestClassifier"


def test_unknown_params_are_refused_with_the_nearest_name() -> None:
    refused = _refusal(
        {"estimator": "sklearn.ensemble.RandomForestClassifier", "params": {"n_estimator": 5}}
    )
    assert refused.field == "trainer.params.n_estimator"
    assert "did you mean 'n_estimators'" in refused.message


def test_object_params_are_refused_even_for_an_estimator_the_operator_added() -> None:
    added = policy(extra_estimators=["sklearn.ensemble.AdaBoostClassifier"])
    trainer = {
        "estimator": "sklearn.ensemble.AdaBoostClassifier",
        "params": {"estimator": "sklearn.tree.DecisionTreeClassifier"},
    }
    refused = _refusal(trainer, added)
    assert refused.field == "trainer.params.estimator"
    assert "Python object" in refused.message
    added.check(TrainerSpec(estimator="sklearn.ensemble.AdaBoostClassifier"))


def test_params_that_are_not_json_are_refused() -> None:
    trainer = TrainerSpec.model_construct(
        estimator="sklearn.linear_model.LogisticRegression", function=None, params={"C": print}
    )
    with pytest.raises(TrainerNotAllowedError) as raised:
        policy().check(trainer)
    assert raised.value.field == "trainer.params.C"


def test_valid_params_pass() -> None:
    trainer = TrainerSpec(
        estimator="sklearn.ensemble.RandomForestClassifier",
        params={"n_estimators": 5, "max_depth": 3, "class_weight": {"0": 1, "1": 2}},
    )
    policy().check(trainer)


@pytest.mark.parametrize(
    "name",
    [
        "tests.unit.training.plugins:train_logistic",  # importable, but a path: refused
        "os:system",
        "builtins:eval",
        "subprocess.Popen",
    ],
)
def test_functions_given_as_import_paths_are_refused(name: str) -> None:
    refused = _refusal({"function": name})
    assert refused.field == "trainer.function"
    assert "an import path is not accepted" in refused.message


def test_an_uninstalled_plugin_name_is_refused_listing_the_installed_ones() -> None:
    refused = _refusal({"function": "train_logistc"})
    assert "did you mean 'train_logistic'" in refused.message
    assert "installed (driftline.trainers entry points): explode, " in refused.message
    nothing = trainer_policy(TrainerSettings(), plugins=list)
    assert _refusal({"function": "train_logistic"}, nothing).field == "trainer.function"


def test_an_installed_plugin_is_loaded_by_its_name() -> None:
    assert policy().function(TrainerSpec(function="train_logistic")) is train_logistic


def test_the_installed_plugins_come_from_the_entry_point_group() -> None:
    assert {ep.name for ep in listed_trainers()} >= {
        "train_logistic",
        "explode",
        "sleep_forever",
        "slow_logistic",
    }


def test_the_operator_list_replaces_the_default() -> None:
    only = policy(estimators=["sklearn.linear_model.LogisticRegression"])
    assert only.estimators == {"sklearn.linear_model.LogisticRegression"}
    assert _refusal({"estimator": "sklearn.ensemble.RandomForestClassifier"}, only)


def test_extra_estimators_extend_the_default() -> None:
    more = policy(extra_estimators=["sklearn.ensemble.AdaBoostClassifier"])
    assert more.estimators == default_estimators() | {"sklearn.ensemble.AdaBoostClassifier"}


def test_the_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_TRAINERS__ESTIMATORS", '["sklearn.svm.SVC"]')
    monkeypatch.setenv("DRIFTLINE_TRAINERS__EXTRA_ESTIMATORS", '["mypackage.models.Mine"]')
    settings = RuntimeSettings(_env_file=None)  # type: ignore[call-arg]
    assert settings.trainers.estimators == ["sklearn.svm.SVC"]
    assert settings.trainers.extra_estimators == ["mypackage.models.Mine"]


def test_settings_refuse_what_is_not_a_dotted_class_path() -> None:
    with pytest.raises(ValueError, match="extra_estimators"):
        TrainerSettings(extra_estimators=["os.system; rm -rf /"])


def test_boosters_are_allowed_only_when_installed() -> None:
    assert booster_estimators(lambda name: None) == frozenset()
    found = booster_estimators(lambda name: object() if name == "lightgbm" else None)
    assert found == {"lightgbm.LGBMClassifier", "lightgbm.LGBMRegressor"}


def test_the_policy_survives_pickling_into_a_training_process() -> None:
    restored = pickle.loads(pickle.dumps(policy()))
    assert restored.estimators == default_estimators()
    assert restored.function(TrainerSpec(function="train_logistic")) is train_logistic


def test_no_allowed_estimator_imports_a_module_a_string_param_names() -> None:
    """Every parameter of every default estimator, given a string naming a module, and fit:
    nothing resolves it into an import (a spec's params can only ever be data)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    labels, values = (x[:, 0] > 0).astype(int), x[:, 0] * 2.0
    sys.modules.pop(CANARY, None)
    tried = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in sorted(default_estimators()):
            cls = policy().estimator_class(TrainerSpec(estimator=path))
            y = labels if is_classifier(cls()) else values
            params = constructor_parameters(cls)
            for name in params:
                # One thread: XGBoost's default of every core spun for ~1.5 s a fit under load.
                single = {"n_jobs": 1} if "n_jobs" in params and name != "n_jobs" else {}
                for value in (f"{CANARY}.Boom", f"{CANARY}:boom"):
                    with contextlib.suppress(Exception):
                        cls(**{**single, name: value}).fit(x, y)
                    tried += 1
    assert tried > 1000
    assert CANARY not in sys.modules
