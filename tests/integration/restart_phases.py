"""Where a restarted service's time to ready went, read from its log (docs/reliability.md)."""

from __future__ import annotations

import json
from datetime import datetime


def _when(line: str) -> tuple[str, float] | None:
    try:
        entry = json.loads(line)
        stamp = datetime.fromisoformat(str(entry["timestamp"]).replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError):
        return None
    return str(entry.get("event", "")), stamp.timestamp()


def restart_phases(
    log_tail: str, killed_at: float, spawned_at: float, ready_at: float
) -> dict[str, float]:
    """Seconds from ``kill -9`` (wall clock ``killed_at``) to the restarted process
    (``spawned_at``), to uvicorn serving (imports and the app built), to the first consumer
    subscribing (migrations, S3, producer), to ``service started`` (consumer group joins), to
    ``/readyz`` answering 200 (``ready_at``). ``log_tail``: the log written after the kill."""
    served = subscribed = started = None
    for found in filter(None, map(_when, log_tail.splitlines())):
        event, at = found
        if event.startswith("Started server process") and served is None:
            served = at
        elif event.startswith("Subscribed to topic") and subscribed is None:
            subscribed = at
        elif event == "service started" and started is None:
            started = at
    if served is None or subscribed is None or started is None:
        return {"back ready (s)": round(ready_at - killed_at, 1)}
    return {
        "back ready (s)": round(ready_at - killed_at, 1),
        "supervisor (s)": round(spawned_at - killed_at, 1),
        "imports and app (s)": round(served - spawned_at, 1),
        "migrations, S3, producer (s)": round(subscribed - served, 1),
        "consumer group joins (s)": round(started - subscribed, 1),
        "until ready (s)": round(ready_at - started, 1),
    }
