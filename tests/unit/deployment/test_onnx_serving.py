"""serving.runtime onnx: a version trained for it serves its ONNX export, with the same answers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from driftline.deployment.errors import ModelLoadRefused
from driftline.deployment.models.loading import fetch_model, load_model
from driftline.deployment.models.predictor import predict_columns
from driftline.deployment.serving.v2_metadata import model_metadata
from driftline.runtime.onnx_record import export_files
from driftline.runtime.storage import IntegrityError
from driftline.runtime.storage.local import LocalArtifactStore
from driftline_contracts.values import ArtifactRef

pytest.importorskip("onnxruntime")
FOLDER = "models/cancer/run-1"


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    frame = load_breast_cancer(as_frame=True).frame
    size = pd.cut(frame["mean radius"], [0, 12, 15, 100], labels=["small", "medium", "large"])
    return frame.assign(size=size.astype(str))


def _fitted(rows: pd.DataFrame, categorical: bool) -> object:
    labels = rows.pop("target").map({0: "malignant", 1: "benign"})
    if not categorical:
        rows = rows.drop(columns="size")
        return make_pipeline(StandardScaler(), LogisticRegression()).fit(rows, labels), rows
    columns = ColumnTransformer([("num", StandardScaler(), list(rows.columns[:-1])),
                                 ("cat", OneHotEncoder(handle_unknown="ignore"), ["size"])])
    return make_pipeline(columns, LogisticRegression()).fit(rows, labels), rows


async def _stored(store: LocalArtifactStore, model: object, rows: pd.DataFrame,
                  serving: bool = True) -> ArtifactRef:
    data = sio.dumps(model)
    stored = await store.put_bytes(f"{FOLDER}/model.skops", data)
    files, _ = export_files(model, rows, None, serving=serving)
    for name, content in files.items():
        await store.put_bytes(f"{FOLDER}/{name}", content)
    return ArtifactRef(uri=stored.uri, sha256=hashlib.sha256(data).hexdigest(),
                       media_type="application/vnd.skops", size_bytes=len(data))


@pytest.mark.parametrize("categorical", [False, True])
async def test_the_onnx_path_answers_as_the_sklearn_path(tmp_path: Path, rows, categorical) -> None:
    model, frame = _fitted(rows.copy(), categorical)
    store = LocalArtifactStore(tmp_path)
    artifact = await _stored(store, model, frame)
    onnx = await fetch_model(store, artifact)
    sklearn = load_model(sio.dumps(model))
    assert onnx.runtime == "onnx"
    assert sklearn.runtime == "sklearn"
    assert onnx.features == sklearn.features
    assert onnx.has_proba
    for batch in (frame.iloc[:1], frame.iloc[:100]):
        ours, theirs = predict_columns(onnx, batch), predict_columns(sklearn, batch)
        assert ours.predictions == theirs.predictions
        for mine, other in zip(ours.probabilities, theirs.probabilities, strict=True):
            assert mine.keys() == other.keys()
            assert max(abs(mine[k] - other[k]) for k in mine) <= 1e-5
    if not categorical:  # one float matrix: the array fast path serves it too
        array = frame.iloc[:5].to_numpy()
        assert onnx.array_estimator is not None
        assert predict_columns(onnx, array).predictions == theirs.predictions[:5]


async def test_an_export_not_made_for_serving_leaves_the_trained_model(tmp_path, rows) -> None:
    model, frame = _fitted(rows.copy(), categorical=False)
    store = LocalArtifactStore(tmp_path)
    loaded = await fetch_model(store, await _stored(store, model, frame, serving=False))
    assert loaded.runtime == "sklearn"


async def test_a_tampered_onnx_file_is_refused(tmp_path: Path, rows) -> None:
    model, frame = _fitted(rows.copy(), categorical=False)
    store = LocalArtifactStore(tmp_path)
    artifact = await _stored(store, model, frame)
    await store.put_bytes(f"{FOLDER}/model.onnx", b"\x08\x07 not the exported graph")
    with pytest.raises(IntegrityError):
        await fetch_model(store, artifact)


async def test_a_record_pointing_outside_the_version_is_refused(tmp_path: Path, rows) -> None:
    model, frame = _fitted(rows.copy(), categorical=False)
    store = LocalArtifactStore(tmp_path)
    artifact = await _stored(store, model, frame)
    record = json.loads((tmp_path / FOLDER / "onnx.json").read_bytes())
    hostile = json.dumps(record | {"file": "../x.onnx"}).encode()
    await store.put_bytes(f"{FOLDER}/onnx.json", hostile)
    with pytest.raises(ModelLoadRefused, match="outside the version"):
        await fetch_model(store, artifact)


async def test_a_batch_runs_the_session_once_for_labels_and_probabilities(tmp_path, rows) -> None:
    model, frame = _fitted(rows.copy(), categorical=False)
    store = LocalArtifactStore(tmp_path)
    loaded = await fetch_model(store, await _stored(store, model, frame))
    runs: list[int] = []
    session = loaded.estimator.session

    class Counting:
        def run(self, outputs: object, feeds: dict) -> list:
            runs.append(len(next(iter(feeds.values()))))
            return session.run(outputs, feeds)

    counted = replace(loaded, estimator=replace(loaded.estimator, session=Counting()))
    predicted = predict_columns(counted, frame.iloc[:10])
    assert runs == [10]
    assert predicted.predictions == list(model.predict(frame.iloc[:10]))


async def test_v2_metadata_names_onnx_runtime_and_its_string_inputs(tmp_path, rows) -> None:
    model, frame = _fitted(rows.copy(), categorical=True)
    store = LocalArtifactStore(tmp_path)
    loaded = await fetch_model(store, await _stored(store, model, frame))
    meta = model_metadata("cancer", [1], loaded)
    assert meta["platform"] == "onnxruntime_onnx"
    kinds = {entry["name"]: entry["datatype"] for entry in meta["inputs"]}
    assert kinds["size"] == "BYTES"
    assert kinds["mean radius"] == "FP64"
    assert [o["name"] for o in meta["outputs"]] == ["predict", "predict_proba"]
