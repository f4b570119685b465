"""The floor of the predict benchmark: a minimal Starlette endpoint doing the same predict.

``POST /predict`` with ``{"instances": [{feature: value}, ...]}``: the rows as a NumPy array
in the model's feature order, ``predict`` and ``predict_proba``, and per row the prediction
and class probabilities as JSON. No validation, routing or logging: what any HTTP scoring
server must at least do. JSON is read and written with orjson, the fastest the endpoint can
use (Driftline uses it too). Served by ``uvicorn bench.predict_floor:app`` with the model file
in ``PREDICT_FLOOR_MODEL`` (a joblib dump written by the benchmark itself).
"""

from __future__ import annotations

import os
from typing import Any

import joblib
import numpy as np
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def answers(model: Any, features: list[str], rows: list[dict[str, float]]) -> list[Any]:
    """Prediction and probabilities per row."""
    matrix = np.array([[row[name] for name in features] for row in rows], dtype=float)
    predictions, probabilities = model.predict(matrix), model.predict_proba(matrix)
    classes = [str(c) for c in model.classes_]
    return [
        {"prediction": p.item(), "probabilities": dict(zip(classes, map(float, ps), strict=True))}
        for p, ps in zip(predictions, probabilities, strict=True)
    ]


def build_app(path: str) -> Starlette:
    """The one-route app scoring with the model in ``path``."""
    model = joblib.load(path)
    features = [str(f) for f in model.feature_names_in_]
    del model.feature_names_in_  # scored as an array in that order, as MLServer does

    async def predict(request: Request) -> Response:
        body = orjson.loads(await request.body())
        content = orjson.dumps({"predictions": answers(model, features, body["instances"])})
        return Response(content, media_type="application/json")

    return Starlette(routes=[Route("/predict", predict, methods=["POST"])])


def __getattr__(name: str) -> Any:
    """``app`` is built on first access (uvicorn's import), never at import time."""
    if name == "app":
        return build_app(os.environ["PREDICT_FLOOR_MODEL"])
    raise AttributeError(name)
