"""The training process function and skops artifacts: verified before they are loaded."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from driftline.runtime.storage.local import LocalArtifactStore
from driftline.training.adapters.artifacts import (
    UntrustedModelError,
    load_model,
    loads_verified,
    store_run_artifacts,
)
from driftline.training.runner import run_training
from driftline.training.trainer import train_model
from tests.unit.training.builders import cancer, policy, spec


class Homemade:
    """A type outside sklearn and numpy: never trusted."""

    def predict(self, rows: object) -> list[int]:
        return [0]


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "cancer.csv"
    cancer().to_csv(path, index=False)
    return path


def test_run_training_returns_model_and_documents(csv_path: Path) -> None:
    output = run_training(
        str(csv_path), "csv", spec().model_dump(mode="json"), 10_000, policy=policy()
    )
    assert output.failure is None
    assert set(output.documents) == {
        "metrics.json",
        "feature_importance.json",
        "confusion_matrix.json",
        "signature.json",
    }
    assert json.loads(output.documents["metrics.json"]) == output.metrics
    assert json.loads(output.documents["signature.json"]) == output.signature
    assert output.duration_s > 0


def test_parquet_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "cancer.parquet"
    cancer().to_parquet(path)
    output = run_training(
        str(path), "parquet", spec().model_dump(mode="json"), 10_000, policy=policy()
    )
    assert output.failure is None
    assert output.metrics["accuracy"] > 0.9


def test_too_many_rows_is_a_resource_limit(csv_path: Path) -> None:
    output = run_training(
        str(csv_path), "csv", spec().model_dump(mode="json"), 100, policy=policy()
    )
    assert output.failure is not None
    assert output.failure[0] == "resource_limit"


def test_unreadable_data_is_typed(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet")
    output = run_training(
        str(path), "parquet", spec().model_dump(mode="json"), 100, policy=policy()
    )
    assert output.failure is not None
    assert output.failure[0] == "unreadable_data"


def test_round_trip_predicts_like_the_original() -> None:
    trained = train_model(cancer(), spec(), policy())
    data = sio.dumps(trained.estimator)
    loaded = loads_verified(data, hashlib.sha256(data).hexdigest())
    features = cancer().drop(columns="target")
    np.testing.assert_array_equal(loaded.predict(features), trained.estimator.predict(features))


def test_a_flipped_byte_is_refused_before_loading(csv_path: Path) -> None:
    output = run_training(
        str(csv_path), "csv", spec().model_dump(mode="json"), 10_000, policy=policy()
    )
    recorded = hashlib.sha256(output.model_bytes).hexdigest()
    tampered = bytearray(output.model_bytes)
    tampered[len(tampered) // 2] ^= 0xFF
    with pytest.raises(UntrustedModelError, match="does not match"):
        loads_verified(bytes(tampered), recorded)


def test_untrusted_types_are_refused() -> None:
    data = sio.dumps(Homemade())
    with pytest.raises(UntrustedModelError, match="untrusted types"):
        loads_verified(data, hashlib.sha256(data).hexdigest())


async def test_stored_artifacts_load_back_verified(csv_path: Path, tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "store")
    output = run_training(
        str(csv_path), "csv", spec().model_dump(mode="json"), 10_000, policy=policy()
    )
    refs = await store_run_artifacts(store, "cancer-clf", "run-1", output)
    ref = refs["model.skops"]
    assert ref.uri.endswith("models/cancer-clf/run-1/model.skops")
    assert ref.sha256 == hashlib.sha256(output.model_bytes).hexdigest()
    assert ref.media_type == "application/vnd.skops"
    model = await load_model(store, ref)
    assert len(model.predict(cancer().drop(columns="target").head(3))) == 3
    wrong = ref.model_copy(update={"sha256": "0" * 64})
    with pytest.raises(UntrustedModelError):
        await load_model(store, wrong)
