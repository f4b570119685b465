"""The loader's trust list: native-categorical HistGradientBoosting loads, nothing wider."""

from __future__ import annotations

import builtins
import functools
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.preprocessing import FunctionTransformer

from driftline.runtime.model_loading import UnservableModelError, load_estimator


def _categorical_frame() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    colour = pd.Categorical(rng.choice(["red", "green", "blue"], size=200))
    frame = pd.DataFrame({"size": rng.normal(size=200), "colour": colour})
    return frame, (frame["colour"] == "red").to_numpy().astype(int)


@pytest.mark.parametrize("categorical", ["from_dtype", [False, True]])
def test_native_categorical_hist_gradient_boosting_loads_and_predicts_the_same(
    categorical: object,
) -> None:
    frame, target = _categorical_frame()
    rows = frame if categorical == "from_dtype" else frame.assign(colour=frame.colour.cat.codes)
    model = HistGradientBoostingClassifier(categorical_features=categorical, max_iter=10)
    model.fit(rows, target)
    loaded, features = load_estimator(sio.dumps(model))
    assert features == ("size", "colour")
    assert (loaded.predict(rows) == model.predict(rows)).all()


def _marker_writer(path: str) -> functools.partial[object]:
    return functools.partial(os.system, f"touch {path}")


@pytest.mark.parametrize(
    ("wrapped", "refused"),
    [
        (lambda marker: _marker_writer(marker), "posix.system"),
        (lambda marker: functools.partial(builtins.eval, "1"), "builtins.eval"),
        (lambda marker: functools.partial(np.add, 1), "functools.partial"),
    ],
)
def test_a_partial_of_anything_but_check_array_is_still_refused(
    tmp_path: Path, wrapped: object, refused: str
) -> None:
    marker = tmp_path / "pwned"
    data = sio.dumps(FunctionTransformer(wrapped(str(marker))))  # type: ignore[operator]
    with pytest.raises(UnservableModelError, match="untrusted types") as caught:
        load_estimator(data)
    assert refused in str(caught.value)
    assert not marker.exists()


def test_a_trusted_partial_beside_an_untrusted_one_is_refused() -> None:
    frame, target = _categorical_frame()
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", max_iter=5)
    model.fit(frame, target)
    model.hostile_ = FunctionTransformer(functools.partial(np.add, 1))
    with pytest.raises(UnservableModelError, match=r"functools\.partial"):
        load_estimator(sio.dumps(model))
