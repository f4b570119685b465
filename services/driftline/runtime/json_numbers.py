"""Non-finite JSON numbers: found by field path in request bodies, made printable in errors.

Python's ``json`` (and so FastAPI) reads ``NaN``, ``Infinity`` and numbers beyond a float
(``1e999``) as ``nan``/``inf``; JSON has no such values and ``json.dumps`` refuses to write
them back, so an error echoing one used to become a 500.
"""

from __future__ import annotations

import json
import math
from typing import Any

# Only a body with one of these is parsed here: a NaN/Infinity literal, a three-digit
# exponent or 309 digits in a row (the only ways to write a number a float cannot hold).
# Found with bytes.translate and substring searches, a few hundred ns for a predict body (a
# regular expression took ~20 µs).
_SHAPES = bytes(
    ord("0") if chr(c).isdigit() else ord("e") if c in b"eE" else ord("+") if c in b"+-"
    else ord(" ")
    for c in range(256)
)  # fmt: skip
_BIG_SHAPES = (b"e000", b"e+000", b"0" * 309)


def suspect(body: bytes) -> bool:
    """Whether ``body`` may hold a non-finite number (cheap; false positives are parsed)."""
    if b"NaN" in body or b"Infinity" in body:
        return True
    shapes = body.translate(_SHAPES)
    return any(shape in shapes for shape in _BIG_SHAPES)
_SPELLING = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def spelled(value: float) -> str:
    """How a non-finite float was written in JSON: ``NaN``, ``Infinity`` or ``-Infinity``."""
    return _SPELLING.get(repr(value), repr(value))


def first_non_finite(document: Any) -> tuple[list[str | int], float] | None:
    """Path and value of the first non-finite float in a parsed JSON document."""
    stack: list[tuple[list[str | int], Any]] = [([], document)]
    while stack:
        path, value = stack.pop()
        if type(value) is float and not math.isfinite(value):
            return path, value
        if isinstance(value, dict):
            stack.extend(([*path, k], v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(([*path, i], v) for i, v in reversed(list(enumerate(value))))
    return None


def non_finite_number(body: bytes) -> dict[str, Any] | None:
    """A FastAPI-style 422 error naming the field of a non-finite number in ``body``; None
    when the body has none (or is not JSON at all: the route decides about that)."""
    if not suspect(body):
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    found = first_non_finite(document)
    if found is None:
        return None
    path, value = found
    return {
        "type": "finite_number",
        "loc": ["body", *path],
        "msg": "Input should be a finite number (NaN, Infinity and numbers beyond a "
        "64-bit float are not JSON numbers)",
        "input": spelled(value),
    }


def printable(value: Any) -> Any:
    """``value`` with every non-finite float spelled as text, so ``json.dumps`` can write it."""
    if isinstance(value, float):
        return value if math.isfinite(value) else spelled(value)
    if isinstance(value, dict):
        return {k: printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable(v) for v in value]
    return value
