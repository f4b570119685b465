"""``driftline serve deployment --workers N``: one process keeps the app, several share the port
through uvicorn's pre-fork master, each worker building the named service's app."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from driftline.cli.main import app
from driftline.runtime.app import SERVICE_VAR, uvicorn_target


def test_one_worker_runs_the_app_in_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_AUTH__DISABLED", "true")
    monkeypatch.setenv("DRIFTLINE_SIGNING__DISABLED", "true")
    target, options = uvicorn_target("deployment", 1)
    assert not isinstance(target, str)
    assert options == {}


def test_several_workers_import_a_factory_that_knows_the_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(SERVICE_VAR, raising=False)
    target, options = uvicorn_target("deployment", 3)
    assert target == "driftline.runtime.app:worker_app"
    assert options == {"factory": True, "workers": 3}
    assert os.environ[SERVICE_VAR] == "deployment"  # spawned workers inherit it


@pytest.mark.parametrize("args", [["training", "--workers", "2"], ["deployment", "--workers", "0"]])
def test_workers_are_refused_where_they_would_not_be_replicas(args: list[str]) -> None:
    result = CliRunner().invoke(app, ["serve", *args])
    assert result.exit_code == 2
    assert "--workers" in result.output
