"""The long-body scan for non-finite JSON numbers answers exactly as the substring searches."""

from __future__ import annotations

import json
import sys

from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_breast_cancer

from driftline.runtime import json_numbers
from driftline.runtime.json_numbers import non_finite_number, suspect

SHAPES = st.text(alphabet='0123456789eE+-NaIfinty .,[]{}:"', min_size=0, max_size=400)


def _body(rows: int) -> bytes:
    frame = load_breast_cancer(as_frame=True).data.head(rows)
    return json.dumps({"instances": frame.to_dict(orient="records")}).encode()


@settings(max_examples=400, deadline=None)
@given(st.one_of(SHAPES.map(str.encode), st.binary(max_size=400)), st.integers(0, 4200))
def test_long_and_short_scans_agree(text: bytes, at: int) -> None:
    filler = b" " * 4200
    body = filler[:at] + text + filler[at:]
    assert json_numbers._suspect_long(body) == json_numbers._suspect_short(body)


def test_a_real_predict_body_is_not_suspect_and_takes_the_long_scan() -> None:
    body = _body(100)
    assert len(body) >= json_numbers._LONG_BODY
    assert not suspect(body)


def test_each_non_finite_shape_is_found_in_a_long_body_and_named() -> None:
    body = _body(100)
    for number in (b"NaN", b"Infinity", b"-Infinity", b"1e999", b"1E+400", b"9" * 309 + b".0"):
        spoiled = body.replace(b"17.99", number, 1)
        assert suspect(spoiled), number
        problem = non_finite_number(spoiled)
        assert problem is not None
        assert problem["loc"] == ["body", "instances", 0, "mean radius"]


def test_finite_lookalikes_are_parsed_and_pass() -> None:
    """A three-digit exponent a float holds: suspect, parsed, no problem; 308 digits: not even
    suspect."""
    body = _body(100)
    for number in (b"1e-300", b"1E+300", b"2.5e100"):
        spoiled = body.replace(b"17.99", number, 1)
        assert suspect(spoiled)
        assert non_finite_number(spoiled) is None
    assert not suspect(body.replace(b"17.99", b"9" * 308, 1))


def test_digit_runs_at_the_edges_of_the_body() -> None:
    assert json_numbers._suspect_long(b"1" * 309 + b" " * 4096)
    assert json_numbers._suspect_long(b" " * 4096 + b"1" * 309)
    assert not json_numbers._suspect_long(b" " * 4096 + b"1" * 308)
    assert json_numbers._suspect_long(b" " * 4096 + b"e-123")
    assert not json_numbers._suspect_long(b" " * 4096 + b"e-12")


def test_a_process_without_numpy_keeps_the_substring_scan(monkeypatch) -> None:
    """Services that never compute import no numeric library: a long body does not make them."""
    body = _body(100)

    def refused(_: bytes) -> bool:
        raise AssertionError("numpy scan in a process without numpy")

    monkeypatch.setattr(json_numbers, "_suspect_long", refused)
    monkeypatch.delitem(sys.modules, "numpy")
    assert not suspect(body)
    assert suspect(body.replace(b"17.99", b"NaN", 1))
