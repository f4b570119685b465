"""AsyncAPI documents: current, built from the handlers each service runs, payloads equal to
the contracts' JSON Schemas, and the catalog's consumers equal to the real subscriptions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from driftline.cli import docs
from driftline.cli.main import app
from driftline.runtime.app import load_definition
from driftline.runtime.asyncapi import stale
from driftline.runtime.services import SERVICE_NAMES
from driftline_contracts.catalog import EVENTS

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "contracts" / "schemas"


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    """Every service's document, built once (it imports every service's handlers)."""
    return docs.documents()


def test_checked_in_documents_are_current(documents: dict[str, dict]) -> None:
    assert stale(ROOT / "docs" / "asyncapi", documents) == [], (
        "run: driftline docs asyncapi --write docs/asyncapi"
    )


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_payloads_are_the_contracts_schemas(service: str, documents: dict[str, dict]) -> None:
    messages = documents[service]["components"]["messages"]
    assert messages, f"{service} receives or sends nothing"
    for message in messages.values():
        schema = json.loads((SCHEMAS / f"{message['x-ce-type']}.json").read_text())
        del schema["$schema"], schema["$id"]
        assert message["payload"] == schema, message["name"]


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_catalog_consumers_are_the_services_subscriptions(service: str) -> None:
    subscribed = {
        s.event_type.__name__
        for s in load_definition(service).subscriptions(None)  # type: ignore[arg-type]
        if s.event_type is not object
    }
    catalogued = {e.__name__ for e in EVENTS if service in e.consumers}
    assert subscribed == catalogued


def test_receive_operations_are_named_for_the_handlers(documents: dict[str, dict]) -> None:
    registry = documents["registry"]
    received = {k for k, v in registry["operations"].items() if v["action"] == "receive"}
    assert received == {
        "on_model_trained", "on_model_spec_applied", "on_model_promoted", "on_canary_rolled_back"
    }  # fmt: skip
    sent = {k for k, v in registry["operations"].items() if v["action"] == "send"}
    assert {"send_ModelApproved", "send_ModelSpecApplied"} <= sent


def test_cli_prints_one_service_and_refuses_unknown_ones() -> None:
    printed = CliRunner().invoke(app, ["docs", "asyncapi", "training"])
    assert printed.exit_code == 0, printed.output
    document = json.loads(printed.output)
    assert document["asyncapi"] == "3.0.0"
    assert "driftline.data-validated" in document["channels"]
    unknown = CliRunner().invoke(app, ["docs", "asyncapi", "billing"])
    assert unknown.exit_code == 2


def test_cli_check_names_a_stale_file(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["docs", "asyncapi", "--write", str(tmp_path)]).exit_code == 0
    assert runner.invoke(app, ["docs", "asyncapi", "--check", str(tmp_path)]).exit_code == 0
    (tmp_path / "audit.json").write_text("{}")
    checked = runner.invoke(app, ["docs", "asyncapi", "--check", str(tmp_path)])
    assert checked.exit_code == 1
    assert "audit.json is stale" in checked.output
