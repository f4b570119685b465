"""Servable or failed: a run whose model deployment's loader refuses fails, saying why."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.tree import DecisionTreeClassifier

from driftline.training.runner import run_training
from driftline.training.servable import UNSERVABLE, check_servable, holdout_of
from driftline.training.trainer import TrainingError
from tests.unit.training.builders import cancer, policy, spec


def _csv(tmp_path: Path) -> str:
    path = tmp_path / "cancer.csv"
    cancer().to_csv(path, index=False)
    return str(path)


def test_a_function_trainer_whose_model_holds_a_partial_fails_as_unservable(
    tmp_path: Path,
) -> None:
    document = spec(trainer={"function": "partial_transform"}).model_dump(mode="json")
    output = run_training(_csv(tmp_path), "csv", document, 10_000, policy=policy())
    assert output.failure is not None
    code, message, field = output.failure
    assert code == UNSERVABLE
    assert "untrusted types in model: functools.partial" in message
    assert "deployment would refuse it" in message
    assert field == "trainer"
    assert output.model_bytes == b""


def test_a_servable_model_passes_and_scores_a_holdout_row() -> None:
    frame, model_spec = cancer(), spec()
    holdout = holdout_of(frame, model_spec)
    features = [c for c in frame.columns if c != "target"]
    model = DecisionTreeClassifier(random_state=0).fit(frame[features], frame["target"])
    loaded = check_servable(sio.dumps(model), holdout, features)
    assert list(loaded.predict(holdout[features].iloc[:3])) == list(model.predict(
        holdout[features].iloc[:3]))  # fmt: skip


def test_a_model_that_loads_but_cannot_score_the_rows_deployment_sends_fails() -> None:
    frame, model_spec = cancer(), spec()
    features = [c for c in frame.columns if c != "target"]
    model = DecisionTreeClassifier(random_state=0).fit(frame[features].to_numpy(), frame["target"])
    narrow = holdout_of(frame, model_spec)[features[:3]]  # fewer columns than it was fit on
    with pytest.raises(TrainingError, match="cannot score a holdout row") as caught:
        check_servable(sio.dumps(model), narrow, features[:3])
    assert caught.value.code == UNSERVABLE


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\x80\x04not a zip", "not a skops file"),
        (
            sio.dumps(make_pipeline(FunctionTransformer(functools.partial(np.add, 1)))),
            "functools.partial",
        ),
    ],
)
def test_hostile_or_untrusted_bytes_are_refused_before_loading(data: bytes, why: str) -> None:
    with pytest.raises(TrainingError, match=why) as caught:
        check_servable(data, holdout_of(cancer(), spec()), ["mean_radius"])
    assert caught.value.code == UNSERVABLE
