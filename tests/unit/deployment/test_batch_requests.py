"""A 100-row request is served column-wise and answers exactly as 100 one-row requests do:
same predictions, probabilities and per-row warnings, through ``/v1`` and the V2 protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from driftline.deployment.deps import DeploymentDeps
from driftline.deployment.errors import FeatureError
from driftline.deployment.models.array_twin import array_twin
from driftline.deployment.models.cache import ModelCache
from driftline.deployment.models.loading import LoadedModel
from driftline.deployment.records import Deployment, Served
from driftline.deployment.serving.answer import serve
from driftline.deployment.serving.bodies import plain_body
from driftline.deployment.serving.served_rows import new_request_ids
from driftline.deployment.serving.v2 import (
    Tensor,
    infer_response,
    instances_from_inputs,
    served_response,
)
from driftline.deployment.settings import DeploymentSection
from driftline.runtime.storage.local import LocalArtifactStore
from driftline_contracts.signature import ColumnSignature, InputSignature
from driftline_contracts.values import ArtifactRef, ModelRef

WEATHER = ["drizzle", "fog", "rain", "snow", "sun"]
SIGNATURE = InputSignature(
    columns=[
        ColumnSignature(name="temp_min", dtype="number", nullable=False),
        ColumnSignature(name="wind", dtype="number", nullable=True),
        ColumnSignature(name="weather", dtype="string", nullable=False, categories=WEATHER),
    ]
)
REF = ModelRef(name="m", version=1)
ARTIFACT = ArtifactRef(
    uri="file:///m.skops", sha256="0" * 64, media_type="application/octet-stream", size_bytes=1
)


class FixedRouting:
    """The routing cache's answer without PostgreSQL: one champion."""

    async def get(self, name: str, load: Any) -> Deployment:
        return Deployment(name, Served(REF, ARTIFACT))


def deps_serving(tmp_path: Path, model: LoadedModel) -> DeploymentDeps:
    store = LocalArtifactStore(tmp_path)
    cache = ModelCache(store)
    cache.put(REF, model)
    settings = DeploymentSection(log_predictions=False)
    return DeploymentDeps(store, cache, settings, routing=FixedRouting())  # type: ignore[arg-type]


def weather_model() -> LoadedModel:
    """A regression on two numbers and a one-hot string category (unseen ones ignored)."""
    rng = np.random.default_rng(0)
    frame = {
        "temp_min": rng.normal(5, 3, 200),
        "wind": rng.normal(3, 1, 200),
        "weather": rng.choice(WEATHER, 200),
    }
    x = pd.DataFrame(frame)
    y = x["temp_min"] * 1.5 + x["wind"] + (x["weather"] == "sun") * 4
    encode = ColumnTransformer(
        [("weather", OneHotEncoder(handle_unknown="ignore"), ["weather"])],
        remainder="passthrough",
    )
    pipeline = make_pipeline(encode, LinearRegression()).fit(x, y)
    features = ("temp_min", "wind", "weather")
    return LoadedModel(pipeline, features, array_twin(pipeline, features), SIGNATURE)


def odd_rows(count: int) -> list[dict[str, Any]]:
    """Rows as clients send them: mostly clean, some unseen, case variants, nulls, ints, text
    numbers in the string column."""
    rng = np.random.default_rng(1)
    kinds = ["hail", "Sun", None, 3, *WEATHER]
    rows = []
    for i in range(count):
        weather = kinds[i % len(kinds)] if i % 3 == 0 else WEATHER[i % 5]
        wind = None if i % 7 == 0 else float(rng.normal(3, 1))
        temp = int(i % 10) if i % 11 == 0 else float(rng.normal(5, 3))
        rows.append({"temp_min": temp, "wind": wind, "weather": weather})
    return rows


def answers(body: bytes) -> list[dict[str, Any]]:
    """A response's answers without their request ids (random per request)."""
    found = orjson.loads(body)["predictions"]
    return [{k: v for k, v in a.items() if k != "request_id"} for a in found]


@pytest.mark.parametrize("count", [100, 37])
async def test_a_batch_answers_as_its_rows_one_by_one(tmp_path: Path, count: int) -> None:
    deps = deps_serving(tmp_path, weather_model())
    rows = odd_rows(count)
    batch = await serve(None, deps, "m", rows, None)  # type: ignore[arg-type]
    singles = [await serve(None, deps, "m", [row], None) for row in rows]  # type: ignore[arg-type]
    together = answers(batch.response_body())
    alone = [a for single in singles for a in answers(single.response_body())]
    assert [a["warnings"] or [] for a in together] == [a["warnings"] or [] for a in alone]
    assert any(a["warnings"] for a in together)  # the odd rows are flagged in both
    predicted = [(a["prediction"], b["prediction"]) for a, b in zip(together, alone, strict=True)]
    assert [p is None for p, _ in predicted] == [q is None for _, q in predicted]
    assert sum(p is not None for p, _ in predicted) > count // 2  # most rows are answered
    for p, q in predicted:
        assert p is None or p == pytest.approx(q, rel=1e-12)
    strip = [{k: v for k, v in a.items() if k not in ("prediction", "warnings")} for a in alone]
    assert [{k: v for k, v in a.items() if k not in ("prediction", "warnings")}
            for a in together] == strip  # fmt: skip


async def test_a_numeric_batch_gives_the_probabilities_of_single_rows(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 30))
    features = tuple(f"f{i}" for i in range(30))
    estimator = LogisticRegression().fit(pd.DataFrame(x, columns=features), x[:, 0] + x[:, 1] > 0)
    signature = InputSignature(
        columns=[ColumnSignature(name=f, dtype="number", nullable=False) for f in features]
    )
    model = LoadedModel(estimator, features, array_twin(estimator, features), signature)
    deps = deps_serving(tmp_path, model)
    body = orjson.dumps(
        {"instances": [dict(zip(features, r, strict=True)) for r in x[:100].tolist()]}
    )
    parsed = plain_body(body)
    assert parsed is not None  # a body of numbers is taken as is, no per-value validation
    rows = parsed[0]
    batch = await serve(None, deps, "m", rows, None)  # type: ignore[arg-type]
    singles = [await serve(None, deps, "m", [row], None) for row in rows]  # type: ignore[arg-type]
    together = answers(batch.response_body())
    alone = [a for single in singles for a in answers(single.response_body())]
    assert [a["prediction"] for a in together] == [a["prediction"] for a in alone]
    for mine, theirs in zip(together, alone, strict=True):
        assert mine["probabilities"] == pytest.approx(theirs["probabilities"], rel=1e-12)
    assert all(a["warnings"] is None for a in together)


async def test_v2_tensors_give_the_answers_of_v1_rows(tmp_path: Path) -> None:
    deps = deps_serving(tmp_path, weather_model())
    rows = odd_rows(100)
    inputs = [
        Tensor(name=name, shape=[100], datatype="FP64", data=[r[name] for r in rows])
        for name in ("temp_min", "wind", "weather")
    ]
    assert instances_from_inputs(inputs) == rows
    served = await serve(None, deps, "m", instances_from_inputs(inputs), None)  # type: ignore[arg-type]
    assert served_response("m", "q", served) == infer_response("m", "q", served.outputs())


def test_v2_refuses_a_bad_value_as_before() -> None:
    with pytest.raises(ValueError, match="'wind'"):
        instances_from_inputs([Tensor(name="wind", shape=[2], datatype="FP64",
                                      data=[1.0, float("inf")])])  # fmt: skip
    with pytest.raises(ValueError, match="'weather'"):
        instances_from_inputs([Tensor(name="weather", shape=[2], datatype="BYTES",
                                      data=["sun", "x" * 300])])  # fmt: skip


async def test_a_batch_names_every_missing_and_unknown_feature(tmp_path: Path) -> None:
    deps = deps_serving(tmp_path, weather_model())
    rows = odd_rows(5)
    rows[1] = {k: v for k, v in rows[1].items() if k != "wind"}
    rows[3] = {**rows[3], "snow_depth": 1.0}
    with pytest.raises(FeatureError) as refused:
        await serve(None, deps, "m", rows, None)  # type: ignore[arg-type]
    assert [(p["loc"][2], p["type"]) for p in refused.value.problems] == [
        (1, "missing_feature"),
        (3, "unknown_feature"),
    ]


def test_request_ids_of_a_batch_are_version_4_uuids() -> None:
    import uuid

    ids = new_request_ids(100)
    assert len(set(ids)) == 100
    assert all(str(uuid.UUID(i)) == i and uuid.UUID(i).version == 4 for i in ids)
    assert all(uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)
