"""LightGBM and XGBoost models saved in their own formats and loaded back without pickle."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftline.runtime.model_loading import UnservableModelError, load_estimator
from driftline.runtime.native_models import MANIFEST, MEDIA_TYPE
from driftline.training.formats import SKOPS_MEDIA_TYPE, serialize_model

lightgbm = pytest.importorskip("lightgbm")
xgboost = pytest.importorskip("xgboost")


def _frame() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    return frame, (frame["a"] + frame["b"] > 0).to_numpy().astype(int)


def _models() -> list[object]:
    return [
        lightgbm.LGBMClassifier(n_estimators=20, verbose=-1),
        lightgbm.LGBMRegressor(n_estimators=20, verbose=-1),
        xgboost.XGBClassifier(n_estimators=20),
        xgboost.XGBRegressor(n_estimators=20),
    ]


@pytest.mark.parametrize("model", _models(), ids=lambda m: type(m).__name__)
def test_a_booster_round_trips_through_its_native_format(model: object) -> None:
    frame, target = _frame()
    model.fit(frame, target)  # type: ignore[attr-defined]
    data, media_type = serialize_model(model, list(frame.columns))
    assert media_type == MEDIA_TYPE
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert MANIFEST in names
    assert not any(name.endswith((".pkl", ".skops")) for name in names)
    loaded, features = load_estimator(data)
    assert features == ("a", "b", "c")
    expected = model.predict(frame)  # type: ignore[attr-defined]
    assert np.allclose(loaded.predict(frame), expected, atol=1e-6)
    if hasattr(model, "predict_proba"):
        assert np.allclose(loaded.predict_proba(frame), model.predict_proba(frame), atol=1e-6)
        assert list(loaded.classes_) == [0, 1]


def test_a_scikit_learn_estimator_still_goes_to_skops() -> None:
    from sklearn.linear_model import LogisticRegression

    frame, target = _frame()
    _, media_type = serialize_model(LogisticRegression().fit(frame, target))
    assert media_type == SKOPS_MEDIA_TYPE


def _archive(manifest: object, files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(MANIFEST, json.dumps(manifest))
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


class Payload:
    """Unpickling this creates the marker file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, ...]:
        return (open, (self.path, "w"))


@pytest.mark.parametrize(
    ("estimator", "why"),
    [
        ("builtins.eval", "is not one of"),
        ("xgboost.core.Booster", "is not one of"),
        ("xgboost.XGBClassifier", "could not read the model"),
    ],
)
def test_a_hostile_native_archive_is_refused_and_nothing_runs(
    tmp_path: Path, estimator: str, why: str
) -> None:
    marker = tmp_path / "pwned"
    evil = pickle.dumps(Payload(str(marker)))
    manifest = {"format": "driftline-native-model", "estimator": estimator, "features": ["a"]}
    data = _archive(manifest, {"model.ubj": evil, "model.pkl": evil})
    with pytest.raises(UnservableModelError, match=why):
        load_estimator(data)
    assert not marker.exists()


def test_an_archive_without_its_model_file_is_refused() -> None:
    manifest = {"format": "driftline-native-model", "estimator": "lightgbm.LGBMClassifier",
                "features": ["a"]}  # fmt: skip
    with pytest.raises(UnservableModelError, match=r"no model\.txt"):
        load_estimator(_archive(manifest, {}))


@pytest.mark.parametrize("estimator", ["xgboost.XGBClassifier", "lightgbm.LGBMClassifier"])
def test_a_booster_spec_trains_into_a_native_archive_that_loads(
    tmp_path: Path, estimator: str
) -> None:
    from driftline.training.runner import run_training
    from tests.unit.training.builders import cancer, policy, spec

    path = tmp_path / "cancer.csv"
    cancer().to_csv(path, index=False)
    trainer = {"estimator": estimator, "params": {"n_estimators": 10}}
    document = spec(trainer=trainer).model_dump(mode="json")
    output = run_training(str(path), "csv", document, 10_000, policy=policy())
    assert output.failure is None, output.failure
    assert MANIFEST in zipfile.ZipFile(io.BytesIO(output.model_bytes)).namelist()
    loaded, features = load_estimator(output.model_bytes)
    rows = cancer()[list(features)].head(20)
    assert set(loaded.predict(rows)) <= {0, 1}
    assert loaded.predict_proba(rows).shape == (20, 2)
    assert output.metrics


def test_deployment_loads_a_native_archive_without_an_array_twin() -> None:
    from driftline.deployment.models.loading import load_model

    frame, target = _frame()
    model = xgboost.XGBClassifier(n_estimators=5).fit(frame, target)
    loaded = load_model(serialize_model(model, list(frame.columns))[0])
    assert loaded.features == ("a", "b", "c")
    assert loaded.has_proba
    assert loaded.array_estimator is None  # only plain scikit-learn estimators get one
    assert list(loaded.estimator.predict(frame.head(3))) == list(model.predict(frame.head(3)))
