"""Predict bodies read fast: parsed JSON plus a few whole-body checks, pydantic for the rest.

``PredictRequest.model_validate_json`` checks each value against the ``Scalar`` union one by
one (about 6 µs per 30-feature row). The common body — rows of numbers, strings, booleans and
nulls under short names — is checked here at C speed instead, with exactly the rules of
``PredictRequest``; any body that is not plainly valid (or is invalid) goes to pydantic,
which gives the same instances or FastAPI's 422 for it. Parsed by pydantic-core's
``from_json`` (integers of any size stay integers, ``NaN`` is refused; orjson would read an
integer beyond 64 bits as a float).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import chain
from typing import Any

from pydantic_core import from_json

from driftline.deployment.serving.schemas import PredictRequest

Instances = list[dict[str, Any]]
PLAIN = frozenset({float, int, bool, str, type(None)})
FIELDS = frozenset({"instances", "routing_key"})
MAX_FEATURES, MAX_NAME, MAX_TEXT, MAX_KEY = 500, 128, 256, 256


def _plain_names(rows: list[dict[str, Any]]) -> bool:
    """Every name 1 to 128 characters, checked once per distinct set of names."""
    first = rows[0].keys()
    for row in (rows[0], *(r for r in rows if r.keys() != first)):
        if row and not 0 < min(map(len, row)) <= max(map(len, row)) <= MAX_NAME:
            return False
    return True


def _numbers_only(body: bytes, document: dict[str, Any], rows: list[dict[str, Any]]) -> bool:
    """Whether every row value is a number, boolean or null, from the body's characters.

    Outside strings ``[``, ``{`` and ``"`` are structure: when the body has exactly the one
    ``[`` of ``instances``, one ``{`` per object and two ``"`` per name (plus the routing
    key's), no value is a list, an object or a string; any other count (a bracket or quote
    inside a name, a repeated name) just means the values are checked one by one.
    """
    names = len(document) + sum(map(len, rows))
    quotes = 2 * names + (2 if document.get("routing_key") is not None else 0)
    return (
        body.count(b"[") == 1 and body.count(b"{") == 1 + len(rows) and body.count(b'"') == quotes
    )


def _finite_numbers(values: list[Any]) -> bool:
    """Whether every value is a number or boolean and their sum finite: ``sum`` refuses text,
    null, lists and objects (a finite sum of finite numbers also rules out ``1e999``)."""
    try:
        return math.isfinite(sum(values))
    except (TypeError, OverflowError):
        return False


def _finite(values: list[Any]) -> bool:
    """No float is infinite (``1e999`` parses to one): one sum when all values are numbers."""
    try:
        return math.isfinite(sum(values))
    except (TypeError, OverflowError):  # null or text among them, or a huge integer
        return all(math.isfinite(v) for v in values if type(v) is float)


def _plain_rows(body: bytes, document: dict[str, Any]) -> bool:
    rows = document.get("instances")
    if type(rows) is not list or not rows or not all(type(r) is dict for r in rows):
        return False
    if max(map(len, rows)) > MAX_FEATURES or not _plain_names(rows):
        return False
    values = list(chain.from_iterable(map(dict.values, rows)))
    if _finite_numbers(values):  # the usual body: one C-level sum says every value is a number
        return True
    if not _numbers_only(body, document, rows):
        kinds = set(map(type, values))
        if not kinds <= PLAIN:
            return False
        if str in kinds and not all(len(v) <= MAX_TEXT for v in values if type(v) is str):
            return False
    return _finite(values)


def plain_body(body: bytes) -> tuple[Instances, str | None] | None:
    """Instances and routing key of a plainly valid body; None for pydantic to decide."""
    try:
        document = from_json(body, allow_inf_nan=False)
    except ValueError:
        return None
    if type(document) is not dict or not document.keys() <= FIELDS:
        return None
    key = document.get("routing_key")
    if key is not None and (type(key) is not str or not 0 < len(key) <= MAX_KEY):
        return None
    return (document["instances"], key) if _plain_rows(body, document) else None


def predict_body(
    body: bytes, validated: Callable[[bytes], PredictRequest]
) -> tuple[Instances, str | None]:
    """Instances and routing key of a predict body; ``validated`` (pydantic, raising FastAPI's
    422) decides every body that is not plainly valid."""
    found = plain_body(body)
    if found is not None:
        return found
    request = validated(body)
    return request.instances, request.routing_key
