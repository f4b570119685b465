"""The demo's live timeline: audited events printed as they happen, from the audit service."""

from __future__ import annotations

import threading
from typing import Any

from rich.console import Console

from driftline.cli.audit_format import event_facts, facts_text
from driftline.cli.demo_http import get_json

QUIET_TYPES = ("monitoring.predictions-logged", "monitoring.ground-truth-received")
"""High-volume events: counted, not printed one by one."""


class AuditTimeline:
    """Polls ``/v1/audit/events?after_seq=N`` in a thread and prints each new event once."""

    def __init__(self, audit_url: str, console: Console, interval_s: float = 0.5) -> None:
        self._url = f"{audit_url}/v1/audit/events"
        self._console = console
        self._interval_s = interval_s
        self._after = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-timeline", daemon=True)
        self.seen: list[dict[str, Any]] = []
        self.quiet_counts: dict[str, int] = {}

    def __enter__(self) -> AuditTimeline:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.poll_once()  # whatever arrived since the last poll

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.poll_once()
            except OSError:
                continue  # the audit service may be restarting; the demo's steps judge that

    def poll_once(self) -> None:
        """Fetch and print the events after the last one seen."""
        entries = get_json(f"{self._url}?after_seq={self._after}&limit=1000")
        for entry in entries if isinstance(entries, list) else []:
            self._after = max(self._after, int(entry["seq"]))
            self.seen.append(entry)
            self._print(entry)

    def _print(self, entry: dict[str, Any]) -> None:
        kind = entry["type"].removeprefix("io.driftline.").rsplit(".v", 1)[0]
        if kind in QUIET_TYPES:
            self.quiet_counts[kind] = self.quiet_counts.get(kind, 0) + 1
            return
        self._console.print(
            f"  [dim]│ {entry['time'][11:19]}[/] [cyan]{kind:<26}[/] {entry['subject']:<16} "
            f"[dim]{entry['actor']:<22} {facts_text(event_facts(entry), limit=3)[:70]}[/]",
            highlight=False,
            soft_wrap=True,
        )
