"""In-memory read model and upstream for the console's page tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from driftline.console.adapters.tables import TABLES
from driftline.console.ports import Row
from driftline.console.projection import AuditedEvent, Change, project
from driftline_contracts.events import Event

_FAR = datetime(1970, 1, 1, tzinfo=UTC)


def audited(event: Event, *, id: str | None = None, actor: str = "service:test") -> AuditedEvent:
    """An example event as the audit stream carries it (body as JSON, time from its envelope)."""
    data = json.loads(event.model_dump_json())
    return AuditedEvent(
        id=id or f"{event.ce_type}-{len(data)}",
        type=event.ce_type,
        subject=event.subject(),
        actor=actor,
        time=datetime(2025, 1, 6, 9, 30, tzinfo=UTC),
        data=data,
    )


class InMemoryReadModel:
    """The read model's tables as dicts, with the same upsert rule as PostgreSQL's writer."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[tuple[Any, ...], Row]] = {name: {} for name in TABLES}
        self._position = 0

    def apply(self, changes: Sequence[Change]) -> None:
        for change in changes:
            key = tuple(change.key.values())
            table = self.tables[change.table]
            if change.table == "events":
                if key not in table:
                    self._position += 1
                    table[key] = {**change.key, **change.values, "position": self._position}
                continue
            row = table.setdefault(key, {c.name: None for c in TABLES[change.table].columns})
            row.update(change.key)
            row.update({k: v for k, v in change.values.items() if v is not None})

    def feed(self, *events: AuditedEvent) -> None:
        for event in events:
            self.apply(project(event))

    def _all(self, table: str) -> list[Row]:
        return [dict(r) for r in self.tables[table].values()]

    async def models(self, name: str | None, offset: int, limit: int) -> list[Row]:
        rows = sorted(self._all("models"), key=lambda r: r["name"])
        rows = [r for r in rows if not name or name.lower() in r["name"]]
        return rows[offset : offset + limit]

    async def model(self, name: str) -> Row | None:
        return next((r for r in self._all("models") if r["name"] == name), None)

    async def versions(self, model: str) -> list[Row]:
        rows = [r for r in self._all("versions") if r["model"] == model]
        return sorted(rows, key=lambda r: -r["version"])

    async def rollout_steps(self, model: str) -> list[Row]:
        rows = [r for r in self._all("rollout_steps") if r["model"] == model]
        return sorted(rows, key=lambda r: (r["time"], r["step"]))

    async def drift_windows(self, model: str, feature: str | None, limit: int) -> list[Row]:
        rows = [
            r
            for r in self._all("drift_windows")
            if r["model"] == model and (not feature or r["feature"] == feature)
        ]
        return sorted(rows, key=lambda r: r["window_end"])[-limit:]

    async def drift_episodes(self, model: str) -> list[Row]:
        rows = [r for r in self._all("drift_episodes") if r["model"] == model]
        return sorted(rows, key=lambda r: r["detected_at"] or _FAR, reverse=True)

    async def datasets(
        self, name: str | None, verdict: str | None, offset: int, limit: int
    ) -> list[Row]:
        rows = [
            r
            for r in self._all("datasets")
            if (not name or name in r["name"]) and (not verdict or r["verdict"] == verdict)
        ]
        return sorted(rows, key=lambda r: r["time"], reverse=True)[offset : offset + limit]

    async def runs(self, model: str | None, offset: int, limit: int) -> list[Row]:
        rows = [r for r in self._all("runs") if not model or model in (r["model"] or "")]
        rows.sort(key=lambda r: r["started_at"] or _FAR, reverse=True)
        return rows[offset : offset + limit]

    async def runs_by_id(self, run_ids: Sequence[str]) -> list[Row]:
        found = {r["run_id"]: r for r in self._all("runs")}
        return [found[i] for i in run_ids if i in found]

    async def dataset_version(self, name: str, version: int) -> Row | None:
        rows = [
            r
            for r in self._all("datasets")
            if r["name"] == name and r["version"] == version and r["verdict"] == "accepted"
        ]
        return max(rows, key=lambda r: r["time"]) if rows else None

    async def events(
        self, filters: dict[str, str], after: int, offset: int, limit: int
    ) -> list[Row]:
        rows = [
            r
            for r in self._all("events")
            if all(v.lower() in r[k].lower() for k, v in filters.items() if v)
        ]
        if after > 0:
            return sorted((r for r in rows if r["position"] > after), key=lambda r: r["position"])[
                :limit
            ]
        return sorted(rows, key=lambda r: -r["position"])[offset : offset + limit]


class FakeUpstream:
    """Other services as fixed answers; writes are recorded."""

    def __init__(
        self,
        lineage: Row | None = None,
        verify: Row | None = None,
        decision: int = 200,
        windows: list[Row] | None = None,
        reports: dict[int, Row] | None = None,
    ) -> None:
        self.decisions: list[tuple[Any, ...]] = []
        self.writes: list[tuple[str, str, Row, str]] = []
        self.report_asks: list[int] = []
        self._windows = windows
        self._reports = reports or {}
        self.status = decision
        self._lineage = lineage
        self._verify = verify or {
            "ok": True,
            "entries": 3,
            "digests": 1,
            "head_seq": 3,
            "signed_seq": 3,
            "unchecked": [],
        }

    async def readiness(self) -> dict[str, Row]:
        return {
            "audit": {"status": "ready", "failing": []},
            "registry": {"status": "unreachable", "failing": ["unreachable: ConnectError"]},
        }

    async def lineage(self, model: str, version: int) -> Row | None:
        return self._lineage

    async def verify(self) -> Row:
        return self._verify

    async def decide(
        self, model: str, version: int, decision: str, comment: str | None, authorization: str
    ) -> tuple[int, str]:
        self.decisions.append((model, version, decision, comment, authorization))
        return self.status, "approved" if self.status == 200 else "refused"

    async def write(
        self, service: str, path: str, body: Row, authorization: str
    ) -> tuple[int, str]:
        self.writes.append((service, path, body, authorization))
        return self.status, "done" if self.status == 200 else "refused by " + service

    async def drift_windows(self, model: str, limit: int) -> tuple[list[Row], str | None]:
        if self._windows is None:
            return [], "monitoring answered nothing: unreachable: ConnectError"
        return self._windows[:limit], None

    async def window_report(self, model: str, seq: int) -> Row | None:
        self.report_asks.append(seq)
        return self._reports.get(seq)


class FakeArtifacts:
    """Published JSON documents by uri (a wrong sha256 reads as missing, like the store)."""

    def __init__(self, documents: dict[str, tuple[str | None, Row]] | None = None) -> None:
        self._documents = documents or {}

    async def json_document(self, uri: str, sha256: str | None) -> Row | None:
        found = self._documents.get(uri)
        if found is None or (sha256 is not None and found[0] not in (None, sha256)):
            return None
        return found[1]
