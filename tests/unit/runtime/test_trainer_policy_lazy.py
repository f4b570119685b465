"""Building the trainer policy costs a service's start-up nothing; the list comes on first use."""

from __future__ import annotations

import pickle
import subprocess
import sys

from driftline.runtime.settings import TrainerSettings
from driftline.runtime.trainer_policy import default_estimators, trainer_policy

PROBE = """
import sys
from driftline.runtime.settings import TrainerSettings
from driftline.runtime.trainer_policy import trainer_policy
policy = trainer_policy(TrainerSettings())
print("sklearn" in sys.modules)
"""


def test_building_the_default_policy_imports_no_scikit_learn() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # registry's start-up: ~1.6 s of CPU less


def test_the_policy_crosses_into_a_training_process_with_its_list() -> None:
    extra = "sklearn.ensemble.AdaBoostClassifier"
    policy = trainer_policy(TrainerSettings(extra_estimators=[extra]))
    restored = pickle.loads(pickle.dumps(policy))
    assert "estimators" in vars(restored)  # listed once, in the service, not in every run
    assert restored.estimators == default_estimators() | {extra}
    assert restored == policy


def test_an_operators_list_replaces_the_defaults() -> None:
    only = ["sklearn.linear_model.LogisticRegression"]
    policy = trainer_policy(TrainerSettings(estimators=only))
    assert policy.estimators == frozenset(only)
    assert trainer_policy(TrainerSettings(estimators=[])).estimators == frozenset()
