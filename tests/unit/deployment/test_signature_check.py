"""Served rows against the signature of the version serving them: what a caller sees."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import orjson
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sklearn.linear_model import LinearRegression

from driftline.deployment.errors import FeatureError
from driftline.deployment.models.loading import LoadedModel
from driftline.deployment.models.predictor import predict_columns
from driftline.deployment.models.signature import fetch_signature, signature_uri
from driftline.deployment.serving.schemas import PredictResponse
from driftline.deployment.serving.served_rows import ServedRows, new_request_ids
from driftline.deployment.serving.signature_check import RowFlagCounter, check_rows
from driftline.deployment.serving.v2 import Tensor, v2_problems
from driftline.runtime.storage.local import LocalArtifactStore
from driftline_contracts.signature import ColumnSignature, InputSignature
from driftline_contracts.values import ArtifactRef

SIGNATURE = InputSignature(
    columns=[
        ColumnSignature(name="temp_min", dtype="number", nullable=False),
        ColumnSignature(name="wind", dtype="number", nullable=True),
        ColumnSignature(
            name="weather",
            dtype="string",
            nullable=False,
            categories=["drizzle", "fog", "rain", "snow", "sun"],
        ),
    ]
)
GOOD = {"temp_min": 5.0, "wind": 3, "weather": "rain"}


def _codes(flags: list[list[dict[str, str]]]) -> list[list[str]]:
    return [[f["code"] for f in row] for row in flags]


def test_rows_like_the_training_data_pass_unflagged_and_unchanged() -> None:
    checked = check_rows([GOOD, {**GOOD, "wind": None}], SIGNATURE)
    assert checked.rows == [GOOD, {**GOOD, "wind": None}]
    assert not checked.flagged


def test_values_training_never_saw_are_served_and_flagged_on_their_row() -> None:
    rows = [
        GOOD,
        {**GOOD, "weather": "hail"},
        {**GOOD, "weather": "Sun"},
        {**GOOD, "weather": None},
        {**GOOD, "weather": 3},
    ]
    checked = check_rows(rows, SIGNATURE)
    assert _codes(checked.flags) == [
        [], ["unseen_category"], ["case_variant"], ["null"], ["not_a_string"]
    ]  # fmt: skip
    assert checked.flags[1][0]["msg"] == (
        "unseen category 'hail' for 'weather' (training saw 'drizzle', 'fog', 'rain', 'snow', "
        "'sun')"
    )
    assert checked.flags[2][0]["msg"] == (
        "'Sun' for 'weather' is a case variant of 'sun', never seen in training"
    )
    assert checked.rows[4]["weather"] == "3"  # served as its text


@pytest.mark.parametrize(
    ("value", "expected"),
    [("warm", "a number"), (True, "a number")],
)
def test_a_wrong_type_is_a_422_naming_the_field_and_row(value: object, expected: str) -> None:
    with pytest.raises(FeatureError) as caught:
        check_rows([GOOD, GOOD, {**GOOD, "temp_min": value}], SIGNATURE)
    (problem,) = caught.value.problems
    assert problem["loc"] == ["body", "instances", 2, "temp_min"]
    assert problem["type"] == "wrong_type"
    assert str(problem["msg"]).startswith(f"feature 'temp_min' (row 2) must be {expected}")


def test_rows_of_one_variant_are_named_by_their_place_in_the_request() -> None:
    with pytest.raises(FeatureError) as caught:
        check_rows([{**GOOD, "wind": "x"}], SIGNATURE, positions=[7])
    assert caught.value.problems[0]["loc"] == ["body", "instances", 7, "wind"]


def test_a_version_without_signature_is_served_unchecked() -> None:
    checked = check_rows([{"anything": "goes"}], None)
    assert not checked.flagged


def test_v2_errors_point_at_the_input_tensor_and_its_row() -> None:
    inputs = [
        Tensor(name="weather", shape=[2], datatype="BYTES", data=["sun", "rain"]),
        Tensor(name="temp_min", shape=[2], datatype="BYTES", data=[1.0, "warm"]),
    ]
    with pytest.raises(FeatureError) as caught:
        check_rows([GOOD, {**GOOD, "temp_min": "warm"}], SIGNATURE)
    (problem,) = v2_problems(caught.value.problems, inputs)
    assert problem["loc"] == ["body", "inputs", 1, "data", 1]
    missing = {"loc": ["body", "instances", 0, "wind"], "msg": "missing feature 'wind' (row 0)",
               "type": "missing_feature"}  # fmt: skip
    (located,) = v2_problems([missing], inputs)
    assert (located["loc"], located["msg"]) == (["body", "inputs"], "missing input tensor 'wind'")


def test_flags_are_counted_on_metrics_by_model_and_kind() -> None:
    registry, counter = CollectorRegistry(), RowFlagCounter()
    flagged = check_rows([{**GOOD, "weather": "hail"}, {**GOOD, "weather": "x"}], SIGNATURE)
    counter.count(registry, "weather-model", flagged.flags)
    counter.count(registry, "weather-model", flagged.flags)
    text = generate_latest(registry).decode()
    assert (
        'driftline_served_row_flags_total{code="unseen_category",model="weather-model"} 4.0' in text
    )


async def test_the_signature_is_read_beside_a_runs_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = LocalArtifactStore(tmp_path)
    model = await store.put_bytes("models/m/run-1/model.skops", b"x")
    ref = ArtifactRef(uri=model.uri, sha256=model.sha256, media_type="application/vnd.skops",
                      size_bytes=1)  # fmt: skip
    assert signature_uri(ref) == model.uri.removesuffix("model.skops") + "signature.json"
    assert await fetch_signature(store, ref) is None
    await store.put_bytes("models/m/run-1/signature.json", SIGNATURE.model_dump_json().encode())
    assert await fetch_signature(store, ref) == SIGNATURE
    other = await store.put_bytes("models/m/v1.skops", b"x")
    assert await fetch_signature(store, ref.model_copy(update={"uri": other.uri})) is None


def test_flags_reach_the_response_body_of_their_row() -> None:
    """The answer a caller reads: the same JSON as the response model, warnings per row."""
    model = LinearRegression().fit(np.array([[0.0], [1.0]]), [0.0, 1.0])
    loaded = LoadedModel(model, ("x",), model)
    flag = {"feature": "weather", "code": "null", "msg": "m"}
    served = ServedRows(
        model="w", canary_id=None, created_at=datetime(2026, 1, 1, tzinfo=UTC),
        request_ids=new_request_ids(3), features=[{"x": 1.0}] * 3, versions=[1, 1, 1],
        variants=["champion"] * 3, predicted=predict_columns(loaded, np.ones((3, 1))),
        latencies=[0.1] * 3, flags=[[], [flag], []],
    )  # fmt: skip
    body = orjson.loads(served.response_body())
    assert [p["warnings"] for p in body["predictions"]] == [[], [flag], []]
    expected = PredictResponse(model="w", predictions=served.outputs())
    assert body == orjson.loads(expected.model_dump_json())
