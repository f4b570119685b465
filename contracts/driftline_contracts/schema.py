"""JSON Schemas of the events: generate, write, and check for staleness and breaking changes.

Usage: ``python -m driftline_contracts.schema write|check [--dir DIR] [--docs FILE]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from driftline_contracts.catalog import EVENTS
from driftline_contracts.compat import breaking_changes
from driftline_contracts.docs import render_catalog
from driftline_contracts.envelope import OPTIONAL_ATTRIBUTES, REQUIRED_ATTRIBUTES, Envelope
from driftline_contracts.events import Event

__all__ = ["breaking_changes", "check", "event_schema", "generate", "main", "write"]

Schema = dict[str, Any]
DRAFT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://driftline.io/schemas/"
ENVELOPE_FILE = "envelope.json"


def _close_pattern_maps(node: Any) -> Any:
    """Maps keyed by a pattern (``dict[Identifier, X]``) refuse other keys, as pydantic does."""
    if isinstance(node, list):
        return [_close_pattern_maps(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _close_pattern_maps(value) for key, value in node.items()}
    if "patternProperties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    return node


def event_schema(cls: type[Event]) -> Schema:
    """Draft 2020-12 schema of one event, with routing metadata under ``x-driftline``."""
    body = _close_pattern_maps(cls.model_json_schema())
    meta = {
        "ce_type": cls.ce_type,
        "topic": cls.topic,
        "key": cls.key_path,
        "producer": cls.producer,
        "consumers": list(cls.consumers),
    }
    return {
        "$schema": DRAFT,
        "$id": f"{ID_BASE}{cls.ce_type}.json",
        **body,
        "title": cls.__name__,
        "description": (cls.__doc__ or "").strip(),
        "x-driftline": meta,
    }


def envelope_schema() -> Schema:
    """Schema of the envelope, with the Kafka header of each attribute under ``x-driftline``."""
    headers = {f"ce_{name}": name for name in (*REQUIRED_ATTRIBUTES, *OPTIONAL_ATTRIBUTES)}
    headers["content-type"] = "datacontenttype"
    meta = {
        "binding": "CloudEvents 1.0 Kafka protocol binding, binary mode",
        "headers": headers,
        "key": "subject (UTF-8)",
        "value": "the event as UTF-8 JSON",
    }
    return {
        "$schema": DRAFT,
        "$id": f"{ID_BASE}{ENVELOPE_FILE}",
        **Envelope.model_json_schema(),
        "title": "Envelope",
        "description": (Envelope.__doc__ or "").strip(),
        "x-driftline": meta,
    }


def generate() -> dict[str, Schema]:
    """Every schema file by name: one per event plus ``envelope.json``."""
    schemas = {f"{cls.ce_type}.json": event_schema(cls) for cls in EVENTS}
    schemas[ENVELOPE_FILE] = envelope_schema()
    return schemas


def render(schema: Schema) -> str:
    """Stable file text of a schema."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def _load(path: Path) -> Schema | None:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def check(
    directory: Path, docs: Path | None = None, generated: dict[str, Schema] | None = None
) -> list[str]:
    """Problems with the checked-in schemas (and docs): stale, missing or breaking files."""
    generated = generated if generated is not None else generate()
    problems: list[str] = []
    for name, schema in generated.items():
        path = directory / name
        old = _load(path) if path.exists() else None
        if old is None:
            problems.append(f"{path}: missing or unreadable; run write")
            continue
        problems += [f"{path}: breaking change: {p}" for p in breaking_changes(old, schema)]
        if path.read_text() != render(schema):
            problems.append(f"{path}: stale; run write")
    problems += [
        f"{path}: no event has this schema (removed?)"
        for path in sorted(directory.glob("*.json"))
        if path.name not in generated
    ]
    if docs is not None and (not docs.exists() or docs.read_text() != render_catalog(generated)):
        problems.append(f"{docs}: stale; run write")
    return problems


def write(directory: Path, docs: Path | None = None, *, allow_breaking: bool = False) -> list[str]:
    """Write every schema (and the docs); refuses breaking changes unless allowed."""
    generated = generate()
    breaking = [
        f"{directory / name}: {p}"
        for name, schema in generated.items()
        if (old := _load(directory / name)) is not None
        for p in breaking_changes(old, schema)
    ]
    if breaking and not allow_breaking:
        return breaking
    directory.mkdir(parents=True, exist_ok=True)
    for name, schema in generated.items():
        (directory / name).write_text(render(schema))
    if docs is not None:
        docs.parent.mkdir(parents=True, exist_ok=True)
        docs.write_text(render_catalog(generated))
    return []


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``write`` or ``check``; exit 1 listing the problems."""
    parser = argparse.ArgumentParser(prog="python -m driftline_contracts.schema")
    parser.add_argument("command", choices=["write", "check"])
    parser.add_argument("--dir", type=Path, default=Path("contracts/schemas"))
    parser.add_argument("--docs", type=Path, default=Path("docs/events.md"))
    parser.add_argument("--no-docs", action="store_true", help="skip docs/events.md")
    parser.add_argument(
        "--allow-breaking",
        action="store_true",
        help="write even if a change breaks backward compatibility",
    )
    args = parser.parse_args(argv)
    docs = None if args.no_docs else args.docs
    if args.command == "write":
        problems = write(args.dir, docs, allow_breaking=args.allow_breaking)
        if problems:
            problems.append("refusing to write: make it a new .vN event or pass --allow-breaking")
    else:
        problems = check(args.dir, docs)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{args.command}: {len(EVENTS)} event schemas + envelope OK in {args.dir}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
