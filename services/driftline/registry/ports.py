"""What the registry's workflows need from the outside world, by role."""

from __future__ import annotations

from typing import Protocol

from driftline.registry.models import Alias, ModelVersion, Rollback, RunContext, SpecRecord, Status
from driftline_contracts.values import Reason


class SpecHistory(Protocol):
    """Where applied specs are kept, newest version last."""

    async def latest(self, model: str) -> SpecRecord | None: ...
    async def add(self, record: SpecRecord) -> None: ...
    async def has_event(self, event_id: str) -> bool: ...


class ModelVersions(Protocol):
    """Where model versions, their aliases and rollbacks are kept."""

    async def run_context(self, model: str, run_id: str) -> RunContext: ...
    async def get(self, model: str, version: int) -> ModelVersion | None: ...
    async def add(self, version: ModelVersion) -> None: ...
    async def decide(
        self, model: str, version: int, status: Status, *, by: str,
        reasons: list[Reason], comment: str | None, from_status: Status = "pending",
    ) -> bool: ...  # fmt: skip
    async def aliases(self, model: str) -> list[Alias]: ...
    async def set_aliases(self, model: str, aliases: dict[str, int]) -> None: ...
    async def add_rollback(self, model: str, rollback: Rollback) -> None: ...
