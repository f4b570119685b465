"""``driftline apply`` / ``models``: local validation, the client, the default URL."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from driftline.cli.main import app
from driftline.cli.registry import DEFAULT_URL, RegistryClient, RegistryError, default_url

SPEC = """\
model: churn-clf
dataset: churn
target: churned
task: classification
trainer:
  estimator: sklearn.ensemble.RandomForestClassifier
  params: {n_estimators: 50}
gates:
  - {metric: accuracy, min: 0.8}
"""


def test_an_invalid_spec_is_refused_locally_naming_the_fields(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        SPEC.replace("task: classification", "task: clustering").replace("min: 0.8", "x: 1")
    )
    result = CliRunner().invoke(app, ["apply", str(path), "--url", "http://unused.invalid"])
    assert result.exit_code == 2
    assert "task:" in result.output
    assert "gates.0" in result.output


def test_a_file_that_is_not_a_mapping_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    assert CliRunner().invoke(app, ["apply", str(path)]).exit_code == 2


def test_apply_posts_the_spec_with_the_actor() -> None:
    seen: dict[str, object] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(path=request.url.path, actor=request.headers.get("x-driftline-actor"))
        return httpx.Response(201, json={"status": "applied", "spec_hash": "a" * 64})

    client = RegistryClient("http://registry.test", transport=httpx.MockTransport(handler))
    body = client.apply({"model": "churn-clf"}, "user:alice")
    assert body["status"] == "applied"
    assert seen == {"path": "/v1/specs", "actor": "user:alice"}


def test_server_errors_carry_the_field_detail() -> None:
    detail = [{"loc": ["body", "trainer"], "msg": "Field required"}]
    client = RegistryClient(
        "http://registry.test",
        transport=httpx.MockTransport(lambda _: httpx.Response(422, json={"detail": detail})),
    )
    with pytest.raises(RegistryError, match=r"422: body.trainer: Field required"):
        client.apply({}, None)


def test_default_url_prefers_the_environment(tmp_path: Path) -> None:
    assert default_url({"DRIFTLINE_REGISTRY_URL": "http://r:1"}, tmp_path) == "http://r:1"
    assert default_url({}, tmp_path) == DEFAULT_URL
