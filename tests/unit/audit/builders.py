"""Hand-built audit entries for lineage and KPI tests: valid event payloads, chosen times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from driftline.audit.core import GENESIS, AuditEntry
from driftline_contracts.events import Event
from driftline_contracts.examples import example
from driftline_contracts.values import ModelRef, TimeWindow

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    """``hours`` after T0."""
    return T0 + timedelta(hours=hours)


def ref(model: str, version: int) -> ModelRef:
    """A model reference."""
    return ModelRef(name=model, version=version)


def window(start_h: float, end_h: float) -> TimeWindow:
    """A time window between two offsets from T0, in hours."""
    return TimeWindow(start=at(start_h), end=at(end_h))


class Log:
    """Appends entries with dense seq numbers; each caused entry points at its cause."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def add(
        self,
        cls: type[Event],
        hours: float,
        *,
        run: str = "run-1",
        cause: AuditEntry | None = None,
        actor: str = "service:test",
        event_id: str | None = None,
        **update: Any,
    ) -> AuditEntry:
        """Append ``example(cls)`` with ``update`` applied, at T0 + ``hours``."""
        event = example(cls).model_copy(update=update)
        seq = len(self.entries) + 1
        entry = AuditEntry(
            seq=seq,
            event_id=event_id or f"e{seq}",
            type=event.ce_type,
            subject=event.subject(),
            source="driftline/test",
            actor=actor,
            time=at(hours),
            correlation_id=run,
            causation_id=cause.event_id if cause else None,
            payload=event.model_dump_json().encode(),
            prev_hash=GENESIS,
            hash=GENESIS,
        )
        self.entries.append(entry)
        return entry

    def by_id(self) -> dict[str, AuditEntry]:
        """Entries keyed by event id."""
        return {e.event_id: e for e in self.entries}


class FakeReader:
    """The ``AuditReader`` port over a list, for read-side use-case tests."""

    def __init__(self, entries: list[AuditEntry], page: int = 5000) -> None:
        self.entries = entries
        self.page = page
        self.gets = 0

    async def get(self, event_id: str) -> AuditEntry | None:
        """The entry of ``event_id``, or None."""
        self.gets += 1
        return next((e for e in self.entries if e.event_id == event_id), None)

    async def query(self, *, subject=None, type_=None, after_seq=0, limit=1000):  # type: ignore[no-untyped-def]
        """Entries after ``after_seq`` filtered by subject and type."""
        found = [
            e
            for e in self.entries
            if e.seq > after_seq
            and (subject is None or e.subject == subject)
            and (type_ is None or type_ in e.type)
        ]
        return found[:limit]

    async def of_types(self, types, *, since=None, after_seq=0, limit=5000):  # type: ignore[no-untyped-def]
        """Entries of ``types`` after ``after_seq``, in pages of ``limit``."""
        found = [
            e
            for e in self.entries
            if e.seq > after_seq and e.type in types and (since is None or e.time >= since)
        ]
        return found[: min(limit, self.page)]

    async def latest_per_subject(self, types, since=None):  # type: ignore[no-untyped-def]
        """The newest entry per subject among ``types``."""
        newest: dict[str, AuditEntry] = {}
        for e in self.entries:
            if e.type in types and (since is None or e.time >= since):
                newest[e.subject] = e
        return list(newest.values())
