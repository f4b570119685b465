"""Predict bodies read on the fast path give exactly what pydantic's ``PredictRequest`` gives,
and every body the fast path is not sure of is left to pydantic (which refuses the bad ones)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.deployment.serving.bodies import plain_body, predict_body
from driftline.deployment.serving.http import validated_predict_request
from driftline.deployment.serving.schemas import PredictRequest

names = st.text(min_size=0, max_size=130)
values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.text(max_size=260),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
rows = st.dictionaries(names, values, max_size=6)
documents = st.fixed_dictionaries(
    {"instances": st.lists(rows, max_size=4)},
    optional={"routing_key": st.one_of(st.none(), st.text(max_size=300)), "extra": st.integers()},
)


def pydantic_answer(body: bytes) -> Any:
    try:
        request = PredictRequest.model_validate_json(body)
    except ValueError:
        return "refused"
    return request.instances, request.routing_key


@settings(max_examples=200, deadline=None)
@given(documents)
def test_the_fast_path_agrees_with_pydantic_on_any_body(document: dict[str, Any]) -> None:
    body = json.dumps(document).encode()
    fast = plain_body(body)
    if fast is not None:
        assert fast == pydantic_answer(body), "whatever the fast path accepts, pydantic accepts"
    try:
        found = predict_body(body, validated_predict_request)
    except RequestValidationError:
        found = "refused"
    assert found == pydantic_answer(body)


def test_numbers_are_read_without_looking_at_each_value() -> None:
    body = b'{"instances": [{"a": 1.5, "b": 2}, {"a": -0.0, "b": null}], "routing_key": "u"}'
    assert plain_body(body) == ([{"a": 1.5, "b": 2}, {"a": -0.0, "b": None}], "u")


@pytest.mark.parametrize(
    "body",
    [
        b'{"instances": [{"a": [1]}]}',  # a list value
        b'{"instances": [{"a": {"x": 1}}]}',  # an object value
        b'{"instances": [{"a": "' + b"x" * 257 + b'"}]}',  # text over 256 characters
        b'{"instances": [{"": 1.0}]}',  # an empty name
        b'{"instances": []}',  # no rows
        b'{"instances": [{"a": NaN}]}',  # not JSON
        b'{"instances": [{"a": 1e999}]}',  # not a finite number
        b'{"instances": [{"a": 1}], "other": 1}',  # an unknown field
    ],
)
def test_bodies_that_are_not_plainly_valid_go_to_pydantic(body: bytes) -> None:
    assert plain_body(body) is None
    with pytest.raises(RequestValidationError):
        predict_body(body, validated_predict_request)


def test_names_and_strings_with_brackets_or_quotes_are_checked_value_by_value() -> None:
    body = json.dumps({"instances": [{'we[ir"d{': 1.0, "plan": "pro [x]"}]}).encode()
    assert plain_body(body) == ([{'we[ir"d{': 1.0, "plan": "pro [x]"}], None)
