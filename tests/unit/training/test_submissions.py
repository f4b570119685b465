"""Models trained elsewhere: refused when unsafe, else re-scored on the spec's own holdout."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import skops.io as sio
from sklearn.ensemble import RandomForestClassifier
from sklearn.preprocessing import FunctionTransformer

from driftline.training.runner import run_training
from driftline.training.submissions import REFUSED, score_submission
from driftline.training.trainer import checked_target, split
from tests.hostile_models import Custom, Payload
from tests.unit.training.builders import cancer, policy, spec


def _csv(tmp_path: Path) -> str:
    path = tmp_path / "cancer.csv"
    cancer().to_csv(path, index=False)
    return str(path)


def _document() -> dict[str, object]:
    return spec().model_dump(mode="json")


def _submitted() -> bytes:
    frame, model_spec = cancer(), spec()
    train = split(checked_target(frame, model_spec), model_spec)[0]
    features = [c for c in frame.columns if c != "target"]
    model = RandomForestClassifier(n_estimators=20, random_state=0)
    return sio.dumps(model.fit(train[features], train["target"]))


def test_a_submitted_model_is_scored_on_the_holdout_its_own_runs_use(tmp_path: Path) -> None:
    data = _csv(tmp_path)
    trained = run_training(data, "csv", _document(), 10_000, policy=policy())
    # the service's own model, submitted back: the same rows give the same scores
    again = score_submission(data, "csv", _document(), 10_000, trained.model_bytes)
    assert again.failure is None, again.failure
    assert again.metrics == trained.metrics
    assert again.holdout_rows == trained.holdout_rows
    submitted = score_submission(data, "csv", _document(), 10_000, _submitted())
    assert submitted.failure is None, submitted.failure
    assert submitted.holdout_rows == trained.holdout_rows
    assert submitted.metrics.keys() == trained.metrics.keys()
    assert submitted.metrics["accuracy"] > 0.9
    assert submitted.train_rows == 0
    assert submitted.signature is not None
    assert {"metrics.json", "signature.json"} <= submitted.documents.keys()


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (lambda marker: pickle.dumps(Payload(marker)), "not a skops file"),
        (lambda marker: sio.dumps(Custom()), "untrusted types"),
        (lambda marker: sio.dumps(FunctionTransformer(open, kw_args={"file": marker})),
         "untrusted types"),
    ],
)  # fmt: skip
def test_a_hostile_submission_is_refused_with_the_reason_and_nothing_runs(
    tmp_path: Path, payload: object, why: str
) -> None:
    marker = tmp_path / "pwned"
    data = payload(str(marker))  # type: ignore[operator]
    output = score_submission(_csv(tmp_path), "csv", _document(), 10_000, data)
    assert output.failure is not None
    code, message, field = output.failure
    assert (code, field) == (REFUSED, "model")
    assert why in message
    assert not marker.exists()
    assert output.model_bytes == b""


def test_a_model_fitted_on_arrays_or_other_columns_is_refused(tmp_path: Path) -> None:
    frame = cancer()
    features = [c for c in frame.columns if c != "target"]
    on_arrays = RandomForestClassifier(n_estimators=5).fit(frame[features].to_numpy(),
                                                          frame["target"])  # fmt: skip
    output = score_submission(_csv(tmp_path), "csv", _document(), 10_000, sio.dumps(on_arrays))
    assert output.failure is not None
    assert "does not name its features" in output.failure[1]
    renamed = frame.rename(columns={features[0]: "elsewhere"})
    other = RandomForestClassifier(n_estimators=5).fit(
        renamed.drop(columns="target"), renamed["target"]
    )
    output = score_submission(_csv(tmp_path), "csv", _document(), 10_000, sio.dumps(other))
    assert output.failure is not None
    assert "no column 'elsewhere'" in output.failure[1]
