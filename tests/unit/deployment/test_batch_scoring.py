"""Batch scoring, pure parts: formats, reading and writing, one output row per input row."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from driftline.deployment.models.loading import LoadedModel
from driftline.deployment.scoring.batch import (
    BatchRefused,
    input_format,
    read_frame,
    score_frame,
    write_frame,
)

TRAIN = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
MODEL = LoadedModel(LogisticRegression().fit(TRAIN, [0, 0, 1, 1]), ("a", "b"))


def test_the_format_comes_from_the_declaration_or_the_extension() -> None:
    assert input_format("s3://b/x.CSV", None) == "csv"
    assert input_format("s3://b/x.parquet", None) == "parquet"
    assert input_format("s3://b/x.bin", "csv") == "csv"
    with pytest.raises(BatchRefused) as refused:
        input_format("s3://b/x.bin", None)
    assert refused.value.reason.code == "unknown_format"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_row_is_scored_with_its_id_and_extra_columns_are_ignored(fmt: str) -> None:
    frame = TRAIN.assign(customer=["c1", "c2", "c3", "c4"], churned=[0, 0, 1, 1])
    data = write_frame(frame, fmt)  # type: ignore[arg-type]
    out = score_frame(MODEL, read_frame(data, fmt), "customer", chunk_rows=3)  # type: ignore[arg-type]
    assert list(out.columns) == ["row", "customer", "prediction", "score", "error"]
    assert list(out["row"]) == [0, 1, 2, 3]
    assert list(out["customer"]) == ["c1", "c2", "c3", "c4"]
    assert list(out["prediction"]) == list(MODEL.estimator.predict(TRAIN))
    expected = MODEL.estimator.predict_proba(TRAIN).max(axis=1)
    assert list(out["score"]) == pytest.approx(list(expected))
    assert out["error"].isna().all()
    written = read_frame(write_frame(out, fmt), fmt)  # type: ignore[arg-type]
    assert list(written["prediction"]) == list(out["prediction"])


def test_missing_features_refuse_the_job_naming_them() -> None:
    with pytest.raises(BatchRefused) as refused:
        score_frame(MODEL, TRAIN[["a"]], None, chunk_rows=10)
    assert (refused.value.reason.code, refused.value.reason.field) == ("missing_feature", "b")
    with pytest.raises(BatchRefused, match="'id'"):
        score_frame(MODEL, TRAIN, "id", chunk_rows=10)


def test_a_file_that_is_not_a_table_is_refused() -> None:
    with pytest.raises(BatchRefused) as refused:
        read_frame(b"PK\x03\x04not parquet", "parquet")
    assert refused.value.reason.code == "unreadable_input"


def test_rows_the_model_fails_on_carry_an_error_and_the_rest_are_scored() -> None:
    frame = pd.DataFrame({"a": [0.0, "oops", 3.0], "b": [1.0, 0.0, 0.0]})
    out = score_frame(MODEL, frame, None, chunk_rows=10)
    assert out["error"].notna().tolist() == [False, True, False]
    assert out["prediction"][0] == 0
    assert out["prediction"][2] == 1
