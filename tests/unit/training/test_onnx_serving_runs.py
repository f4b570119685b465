"""serving.runtime onnx: the run exports its model and checks it on the holdout, or fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftline.runtime.onnx_models import load_onnx
from driftline.training.runner import run_training
from driftline.training.servable import UNSERVABLE, holdout_of
from driftline.training.submissions import score_submission
from tests.unit.training.builders import mixed, policy, spec

pytest.importorskip("skl2onnx")
ONNX = {"runtime": "onnx"}


def _csv(tmp_path: Path) -> str:
    path = tmp_path / "mixed.csv"
    mixed(rows=400).to_csv(path, index=False)
    return str(path)


def test_a_run_of_an_onnx_spec_stores_the_export_checked_on_its_holdout(tmp_path: Path) -> None:
    document = spec(serving=ONNX, target="label").model_dump(mode="json")
    output = run_training(_csv(tmp_path), "csv", document, 10_000, policy=policy())
    assert output.failure is None, output.failure
    record = json.loads(output.documents["onnx.json"])
    assert record["serving"] is True
    assert record["check"]["passed"] is True
    assert record["check"]["rows"] == output.holdout_rows
    served = load_onnx(output.documents["model.onnx"])
    holdout = holdout_of(mixed(rows=400), spec(serving=ONNX, target="label"))
    assert len(served.inputs) == len(served.features)  # the trainer's ColumnTransformer
    assert any(kind == "tensor(string)" for _, kind in served.inputs)
    assert served.predict(holdout).shape == (len(holdout),)


def test_a_default_spec_stores_no_export(tmp_path: Path) -> None:
    document = spec(target="label").model_dump(mode="json")
    output = run_training(_csv(tmp_path), "csv", document, 10_000, policy=policy())
    assert output.failure is None
    assert "model.onnx" not in output.documents


def test_a_model_onnx_cannot_express_fails_the_run_saying_why(tmp_path: Path) -> None:
    trainer = {"estimator": "sklearn.ensemble.HistGradientBoostingClassifier",
               "params": {"max_iter": 3}}  # fmt: skip
    document = spec(serving=ONNX, trainer=trainer, target="label").model_dump(mode="json")
    output = run_training(_csv(tmp_path), "csv", document, 10_000, policy=policy())
    assert output.failure is not None
    code, message, field = output.failure
    assert (code, field) == (UNSERVABLE, "serving")
    assert "HistGradientBoostingClassifier" in message
    assert "ONNX" in message


def test_a_submission_for_an_onnx_spec_is_exported_like_a_run(tmp_path: Path) -> None:
    data = _csv(tmp_path)
    document = spec(serving=ONNX, target="label").model_dump(mode="json")
    trained = run_training(data, "csv", document, 10_000, policy=policy())
    submitted = score_submission(data, "csv", document, 10_000, trained.model_bytes)
    assert submitted.failure is None, submitted.failure
    record = json.loads(submitted.documents["onnx.json"])
    assert record["serving"] is True
    assert record["check"]["passed"] is True
    holdout = holdout_of(mixed(rows=400), spec(serving=ONNX, target="label"))
    served = load_onnx(submitted.documents["model.onnx"])
    assert list(served.predict(holdout)) == list(load_onnx(trained.documents["model.onnx"]).predict(
        holdout))  # fmt: skip


def test_a_lightgbm_run_of_an_onnx_spec_exports_its_pipeline(tmp_path: Path) -> None:
    pytest.importorskip("onnxmltools")
    pytest.importorskip("lightgbm")
    trainer = {"estimator": "lightgbm.LGBMClassifier", "params": {"n_estimators": 20}}
    document = spec(serving=ONNX, trainer=trainer, target="label").model_dump(mode="json")
    output = run_training(_csv(tmp_path), "csv", document, 10_000, policy=policy())
    assert output.failure is None, output.failure
    assert json.loads(output.documents["onnx.json"])["check"]["precision"] == "float"
