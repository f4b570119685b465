"""In-memory stand-ins for the registry's ports."""

from __future__ import annotations

from driftline.registry.models import Alias, ModelVersion, Rollback, RunContext, SpecRecord, Status
from driftline_contracts.values import Reason


class FakeSpecHistory:
    """Spec history in a list."""

    def __init__(self) -> None:
        self.records: list[SpecRecord] = []

    async def latest(self, model: str) -> SpecRecord | None:
        return next((r for r in reversed(self.records) if r.model == model), None)

    async def add(self, record: SpecRecord) -> None:
        self.records.append(record)

    async def has_event(self, event_id: str) -> bool:
        return any(r.event_id == event_id for r in self.records)


class FakeModelVersions:
    """Versions, aliases and rollbacks in dicts."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], ModelVersion] = {}
        self.alias_map: dict[tuple[str, str], int] = {}
        self.rolled_back: list[Rollback] = []

    async def run_context(self, model: str, run_id: str) -> RunContext:
        known = next(
            (v for v in self.rows.values() if (v.model, v.run_id) == (model, run_id)), None
        )
        return RunContext(
            known_version=known.version if known else None,
            latest_version=await self._latest_number(model),
        )

    async def get(self, model: str, version: int) -> ModelVersion | None:
        return self.rows.get((model, version))

    async def _latest_number(self, model: str) -> int:
        return max((n for m, n in self.rows if m == model), default=0)

    async def add(self, version: ModelVersion) -> None:
        self.rows[(version.model, version.version)] = version

    async def decide(
        self, model: str, version: int, status: Status, *, by: str,
        reasons: list[Reason], comment: str | None, from_status: Status = "pending",
    ) -> bool:  # fmt: skip
        row = self.rows[(model, version)]
        if row.status != from_status:
            return False
        self.rows[(model, version)] = row.model_copy(
            update={"status": status, "decided_by": by, "reasons": reasons, "comment": comment}
        )
        return True

    async def aliases(self, model: str) -> list[Alias]:
        return [Alias(alias=a, version=v) for (m, a), v in sorted(self.alias_map.items())
                if m == model]  # fmt: skip

    async def set_aliases(self, model: str, aliases: dict[str, int]) -> None:
        self.alias_map.update({(model, a): v for a, v in aliases.items()})

    async def add_rollback(self, model: str, rollback: Rollback) -> None:
        self.rolled_back.append(rollback)
