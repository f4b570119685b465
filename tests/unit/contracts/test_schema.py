"""Schema files: the repo's copies are current, and a changed model is caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftline_contracts import schema
from driftline_contracts.catalog import EVENTS

ROOT = Path(__file__).resolve().parents[3]
SCHEMAS, DOCS = ROOT / "contracts" / "schemas", ROOT / "docs" / "events.md"


@pytest.fixture
def copied(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    schema.write(target, tmp_path / "events.md")
    return target


def test_checked_in_schemas_and_docs_are_current():
    assert schema.check(SCHEMAS, DOCS) == []


def test_every_schema_is_draft_2020_12_with_routing_metadata():
    generated = schema.generate()
    assert len(generated) == len(EVENTS) + 1
    for cls in EVENTS:
        doc = generated[f"{cls.ce_type}.json"]
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert doc["$id"].endswith(f"/{cls.ce_type}.json")
        assert doc["title"] == cls.__name__
        assert doc["description"]
        assert doc["x-driftline"]["topic"] == cls.topic
        assert doc["x-driftline"]["key"] == cls.key_path
        assert doc["additionalProperties"] is False
        assert all(p.get("description") for p in doc["properties"].values())
    headers = generated["envelope.json"]["x-driftline"]["headers"]
    assert headers["ce_correlationid"] == "correlationid"


def test_a_modified_model_makes_check_fail_as_stale_and_breaking(copied: Path):
    generated = schema.generate()
    arrived = generated["io.driftline.data.arrived.v1.json"]
    arrived["properties"].pop("pipeline_run")
    arrived["required"] = [*arrived.get("required", []), "produced_at"]
    problems = schema.check(copied, generated=generated)
    assert any("stale" in p for p in problems)
    assert any("'pipeline_run' removed" in p for p in problems)
    assert any("'produced_at' is newly required" in p for p in problems)


def test_a_compatible_change_is_only_stale(copied: Path):
    generated = schema.generate()
    generated["io.driftline.data.arrived.v1.json"]["properties"]["note"] = {"type": "string"}
    problems = schema.check(copied, generated=generated)
    assert len(problems) == 1
    assert "stale" in problems[0]


def test_missing_and_orphan_files_are_reported(copied: Path):
    (copied / "io.driftline.data.arrived.v1.json").unlink()
    (copied / "io.driftline.data.gone.v1.json").write_text("{}")
    problems = schema.check(copied)
    assert any("arrived.v1.json: missing" in p for p in problems)
    assert any("gone.v1.json: no event" in p for p in problems)


def test_write_refuses_a_breaking_change_unless_allowed(copied: Path):
    path = copied / "io.driftline.data.arrived.v1.json"
    old = json.loads(path.read_text())
    old["properties"]["legacy"] = {"type": "string"}
    path.write_text(json.dumps(old))
    assert any("'legacy' removed" in p for p in schema.write(copied))
    assert "legacy" in path.read_text()
    assert schema.write(copied, allow_breaking=True) == []
    assert schema.check(copied) == []


def test_command_line_exit_codes(copied: Path, capsys):
    assert schema.main(["check", "--dir", str(copied), "--no-docs"]) == 0
    (copied / "envelope.json").write_text("{}")
    assert schema.main(["check", "--dir", str(copied), "--no-docs"]) == 1
    assert "envelope.json" in capsys.readouterr().err


def test_docs_list_every_event_with_its_fields():
    text = DOCS.read_text()
    for cls in EVENTS:
        assert f"### {cls.__name__}" in text
        assert f"`{cls.ce_type}`" in text
    assert "| `dataset` | DatasetRef | yes |" in text
