"""Non-finite JSON numbers: found by field path in request bodies, made printable in errors.

Python's ``json`` (and so FastAPI) reads ``NaN``, ``Infinity`` and numbers beyond a float
(``1e999``) as ``nan``/``inf``; JSON has no such values and ``json.dumps`` refuses to write
them back, so an error echoing one used to become a 500.
"""

from __future__ import annotations

import json
import math
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

# Only a body with one of these is parsed here: a NaN/Infinity literal, a three-digit
# exponent or 309 digits in a row (the only ways to write a number a float cannot hold).
# Found with bytes.translate and substring searches for a short body, a few hundred ns. A
# long one is scanned with NumPy: those searches ran at under 2 GB/s, about 200 µs for a
# 100-row predict body (80 KB), a quarter of a bare predict endpoint's CPU per request; the
# same answer from whole-array comparisons takes about 50 µs. (A regular expression took
# ~20 µs on a small body, 1.5 ms on that one.) Digits are JSON's, ASCII only (``isdigit``
# also took the Latin-1 superscripts, bytes found inside UTF-8 text).
_SHAPES = bytes(
    ord("0") if c in b"0123456789" else ord("e") if c in b"eE" else ord("+") if c in b"+-"
    else ord(" ")
    for c in range(256)
)  # fmt: skip
_LONGEST_DIGITS = 308
"""Digits in a row that a float can still hold without an exponent (1.8e308 has 309)."""
_TOO_MANY_DIGITS = b"0" * (_LONGEST_DIGITS + 1)
_BIG_SHAPES = (b"e000", b"e+000", _TOO_MANY_DIGITS)
_LONG_BODY = 4096
"""From this many bytes a body is scanned with NumPy, in a process that has imported it (the
services that never compute import no numeric library, and keep the substring scan)."""


def suspect(body: bytes) -> bool:
    """Whether ``body`` may hold a non-finite number (cheap; false positives are parsed)."""
    if len(body) >= _LONG_BODY and "numpy" in sys.modules:
        return _suspect_long(body)
    return _suspect_short(body)


def _suspect_short(body: bytes) -> bool:
    """``suspect`` by substring searches."""
    if b"NaN" in body or b"Infinity" in body:
        return True
    shapes = body.translate(_SHAPES)
    return any(shape in shapes for shape in _BIG_SHAPES)


def _suspect_long(body: bytes) -> bool:
    """``suspect`` by whole-array comparisons: exactly the same answer."""
    import numpy as np  # already imported: see ``_LONG_BODY``

    chars = np.frombuffer(body, dtype=np.uint8)
    if ((chars == ord("N")) | (chars == ord("I"))).any() and (
        b"NaN" in body or b"Infinity" in body
    ):
        return True
    digit = (chars >= ord("0")) & (chars <= ord("9"))
    exponent = ((chars == ord("e")) | (chars == ord("E")))[:-3]
    three = digit[1:-2] & digit[2:-1] & digit[3:]  # three digits from the next byte on
    if (exponent & three).any():
        return True
    sign = (chars == ord("+")) | (chars == ord("-"))
    if (exponent[:-1] & sign[1:-3] & three[1:]).any():
        return True
    return _digit_block(digit) and _TOO_MANY_DIGITS in body.translate(_SHAPES)


_BLOCK = (_LONGEST_DIGITS + 2) // 2
"""Any run of 309 digits covers a whole aligned block of this many (309 >= 2 * 155 - 1)."""


def _digit_block(digit: np.ndarray) -> bool:
    """Whether some aligned block of ``_BLOCK`` bytes is all digits: rare in real bodies, and
    needed for a run of 309 (then the exact search decides)."""
    import numpy as np

    padded = np.zeros(-(-len(digit) // _BLOCK) * _BLOCK, dtype=bool)
    padded[: len(digit)] = digit
    return bool(padded.reshape(-1, _BLOCK).all(axis=1).any())


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
