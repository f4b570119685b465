"""POST /v1/specs with a hostile ``serving.micro_batching`` block: a 422 naming the field,
never a 5xx, and nothing stored or announced."""

from __future__ import annotations

import json

import pytest

from tests.unit.registry.test_spec_trainer_policy import _client, _spec

TRAINER = {"estimator": "sklearn.linear_model.LogisticRegression"}


def _body(batching_json: str) -> bytes:
    spec = json.dumps({**_spec(TRAINER), "serving": {"micro_batching": "__HOLE__"}})
    return spec.replace('"__HOLE__"', batching_json).encode()


@pytest.mark.parametrize(
    ("batching", "field"),
    [
        ('{"enabled": true, "max_wait_ms": NaN}', "max_wait_ms"),
        ('{"enabled": true, "max_wait_ms": Infinity}', "max_wait_ms"),
        ('{"enabled": true, "max_wait_ms": 1e999}', "max_wait_ms"),
        ('{"enabled": true, "max_batch_rows": 1000000000000000000000}', "max_batch_rows"),
        ('{"enabled": true, "max_batch_rows": -5}', "max_batch_rows"),
        ('{"enabled": true, "max_batch_rows": "64; DROP TABLE specs"}', "max_batch_rows"),
        ('{"enabled": "sometimes"}', "enabled"),
        ('{"enabled": true, "__class__": "os.system"}', "__class__"),
        ("[true, 64, 2]", None),
        ('"../../etc/passwd"', None),
    ],
)
def test_a_hostile_batching_block_is_a_422_naming_the_field(
    batching: str, field: str | None
) -> None:
    api, runtime = _client()
    answer = api.post(
        "/v1/specs",
        content=_body(batching),
        headers={"X-Driftline-Actor": "user:m", "Content-Type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    locations = [error["loc"] for error in answer.json()["detail"]]
    wanted = ["body", "serving", "micro_batching"] + ([field] if field else [])
    assert any(loc[: len(wanted)] == wanted for loc in locations), locations
    assert runtime.opened == 0  # nothing stored, no ModelSpecApplied
