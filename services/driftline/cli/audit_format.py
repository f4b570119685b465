"""How audited events read on a terminal: one line per event with its key provenance facts.

Shared by ``driftline audit tail``, ``driftline lineage`` and the demo's live timeline, so an
event looks the same wherever it is printed.
"""

from __future__ import annotations

import json
from typing import Any

from driftline.audit.lineage import key_facts

_SHA256_HEX = 64


def fact_text(value: Any) -> str:
    """One fact value, short: JSON for structures, sha256 digests cut to 12 characters."""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    text = str(value)
    return f"{text[:12]}…" if len(text) == _SHA256_HEX and text.isalnum() else text


def facts_text(facts: dict[str, Any], limit: int | None = None) -> str:
    """``key=value`` pairs, optionally only the first ``limit`` of them."""
    items = list(facts.items())[:limit]
    return ", ".join(f"{key}={fact_text(value)}" for key, value in items)


def event_facts(entry: dict[str, Any]) -> dict[str, Any]:
    """The key facts of an audited event as the audit API returns it (``data`` = payload)."""
    data = entry.get("data")
    return key_facts(data) if isinstance(data, dict) else {}


def event_line(entry: dict[str, Any], width: int = 100) -> str:
    """``seq  time  actor  type  subject  facts`` for one audited event."""
    kind = entry["type"].removeprefix("io.driftline.")
    facts = facts_text(event_facts(entry))
    return (
        f"{entry['seq']:>6}  {entry['time'][:19]}  {entry['actor']:<24} "
        f"{kind:<28} {entry['subject']:<20} {facts[:width]}"
    )
