"""CLI commands find a service: explicit URL, then environment, then the stack, then the default."""

from __future__ import annotations

from pathlib import Path

import httpx

from driftline.cli.service_url import error_detail, service_url


def test_explicit_url_wins_then_environment_then_default(tmp_path: Path) -> None:
    env = {"DRIFTLINE_TRAINING_URL": "http://training.internal:9000/"}
    assert service_url("training", "http://x:1/", environ=env, home=tmp_path) == "http://x:1"
    assert service_url("training", environ=env, home=tmp_path) == "http://training.internal:9000"
    assert service_url("training", environ={}, home=tmp_path) == "http://127.0.0.1:8103"
    assert service_url("audit", environ={}, home=tmp_path) == "http://127.0.0.1:8107"


def test_error_detail_names_the_invalid_fields() -> None:
    answer = httpx.Response(
        422, json={"detail": [{"loc": ["body", "gates", 0, "metric"], "msg": "Field required"}]}
    )
    assert error_detail(answer) == "body.gates.0.metric: Field required"
    assert error_detail(httpx.Response(404, json={"detail": "no such model"})) == "no such model"
    assert error_detail(httpx.Response(502, text="bad gateway")) == "bad gateway"
