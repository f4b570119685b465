"""In-memory stand-ins for rollout's ports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from driftline.deployment.errors import ModelLoadRefused
from driftline.deployment.prediction_log.rows import LoggedRow
from driftline.deployment.records import Canary, Deployment, Served
from driftline_contracts.modelspec import CanaryPolicy
from driftline_contracts.values import ArtifactRef, CanaryStep, ModelRef


class FakeRollouts:
    """Policies, versions, champions and rollouts in dicts."""

    def __init__(self) -> None:
        self.policies: dict[str, CanaryPolicy] = {}
        self.versions: dict[tuple[str, int], dict[str, Any]] = {}
        self.champions: dict[str, int] = {}
        self.canaries: dict[str, dict[str, Any]] = {}

    async def policy(self, model: str) -> CanaryPolicy:
        return self.policies.get(model, CanaryPolicy())

    async def has_version(self, model: ModelRef) -> bool:
        return (model.name, model.version) in self.versions

    async def servable(self, model: ModelRef) -> Served | None:
        found = self.versions.get((model.name, model.version))
        return Served(model, found["artifact"]) if found and found["status"] == "ready" else None

    async def record_version(
        self, model: ModelRef, artifact: ArtifactRef, event_id: str, error: str | None = None
    ) -> None:
        self.versions.setdefault((model.name, model.version), {
            "artifact": artifact, "status": "ready" if error is None else "load_failed",
            "error": error, "event_id": event_id,
        })  # fmt: skip

    async def set_champion(self, model: ModelRef) -> None:
        self.champions[model.name] = model.version

    async def start_canary(
        self, canary_id: str, challenger: ModelRef, champion: ModelRef,
        steps: tuple[CanaryStep, ...], now: datetime, cause: str | None = None,
    ) -> None:  # fmt: skip
        self.canaries[canary_id] = {
            "model": challenger.name, "status": "active", "challenger": challenger.version,
            "champion": champion.version, "steps": steps, "step": 0, "started_at": now,
            "step_started_at": now, "cause": cause, "last_report": None,
        }  # fmt: skip

    async def update_canary(self, canary_id: str, **values: Any) -> None:
        self.canaries[canary_id].update(values)

    async def deployment(self, name: str) -> Deployment:
        champion = self.champions.get(name)
        active = next((i for i, c in self.canaries.items()
                       if c["model"] == name and c["status"] == "active"), None)  # fmt: skip
        return Deployment(
            name, self._served(name, champion) if champion else None,
            self._canary(active) if active else None,
        )  # fmt: skip

    async def lock_canary(self, canary_id: str) -> Canary | None:
        row = self.canaries.get(canary_id)
        return self._canary(canary_id) if row and row["status"] == "active" else None

    async def lock_active(self, name: str) -> Canary | None:
        return (await self.deployment(name)).canary

    async def last_report(self, canary_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.canaries[canary_id]["last_report"]
        return found

    def _served(self, name: str, version: int) -> Served:
        return Served(
            ModelRef(name=name, version=version), self.versions[(name, version)]["artifact"]
        )

    def _canary(self, canary_id: str) -> Canary:
        row = self.canaries[canary_id]
        return Canary(
            canary_id, self._served(row["model"], row["challenger"]),
            self._served(row["model"], row["champion"]), tuple(row["steps"]), row["step"],
            row["started_at"], row["step_started_at"],
        )  # fmt: skip


class FakeCanaryTraffic:
    """Logged rows per rollout in a list."""

    def __init__(self, rows: list[LoggedRow] | None = None) -> None:
        self.rows = rows or []

    async def canary_requests(self, canary_id: str, since: datetime) -> int:
        return sum(r.variant == "canary" for r in self.rows)

    async def window(self, canary_id: str, since: datetime) -> list[LoggedRow]:
        return list(self.rows)


class FakeShadowAnswers:
    """Paired (champion, shadow) rows in a list."""

    def __init__(self, pairs: list[tuple[LoggedRow, LoggedRow]] | None = None) -> None:
        self.paired = pairs or []

    async def count(self, canary_id: str, since: datetime) -> int:
        return len(self.paired)

    async def pairs(self, canary_id: str, since: datetime) -> list[tuple[LoggedRow, LoggedRow]]:
        return list(self.paired)


class FakeModelLoader:
    """Loads every artifact except those whose URI is listed as refused."""

    def __init__(self, refused: frozenset[str] = frozenset()) -> None:
        self.refused = refused
        self.loaded: list[ModelRef] = []

    async def load(self, model: ModelRef, artifact: ArtifactRef) -> None:
        if artifact.uri in self.refused:
            raise ModelLoadRefused(f"{artifact.uri} is a pickle")
        self.loaded.append(model)


class Outbox:
    """Collects emitted events in order (the ``emit`` port)."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    async def __call__(self, event: Any) -> object:
        self.events.append(event)
        return event


class FakeLoggedPredictions:
    """Logged rows and registered batches in memory (the prediction log's sender view)."""

    def __init__(self, rows: list[LoggedRow] | None = None) -> None:
        self.rows = rows or []
        self.batch_of: dict[int, str] = {}
        self.registered: dict[str, tuple[str, int, datetime]] = {}

    async def close_batch(self, batch_id: str) -> bool:
        return self.registered.pop(batch_id, None) is not None

    async def stale_batches(self, before: datetime, limit: int) -> list[tuple[str, str, int]]:
        old = [(b, m, v) for b, (m, v, at) in self.registered.items() if at < before]
        return old[:limit]

    async def batch_rows(self, batch_id: str) -> list[LoggedRow]:
        return [r for r in self.rows if self.batch_of.get(r.id) == batch_id]

    async def unsent_summary(self, before: datetime) -> tuple[int, datetime | None]:
        waiting = [r.created_at for r in self._unsent(before)]
        return len(waiting), min(waiting, default=None)

    async def claim_unsent(self, limit: int, before: datetime) -> list[LoggedRow]:
        return self._unsent(before)[:limit]

    async def mark_sent(self, ids: Sequence[int], batch_id: str) -> None:
        self.batch_of.update(dict.fromkeys(ids, batch_id))

    def _unsent(self, before: datetime) -> list[LoggedRow]:
        return [r for r in self.rows if r.id not in self.batch_of and r.created_at < before
                and r.error is None]  # fmt: skip


class FakeUnsentShadowAnswers:
    """Shadow answers in a list; sent ones remember their batch."""

    def __init__(self, rows: list[LoggedRow] | None = None) -> None:
        self.rows = rows or []
        self.batch_of: dict[int, str] = {}

    async def unsent_summary(self) -> tuple[int, datetime | None]:
        waiting = [r.created_at for r in self.rows if r.id not in self.batch_of]
        return len(waiting), min(waiting, default=None)

    async def claim_unsent(self, limit: int) -> list[LoggedRow]:
        return [r for r in self.rows if r.id not in self.batch_of][:limit]

    async def mark_sent(self, ids: Sequence[int], batch_id: str) -> None:
        self.batch_of.update(dict.fromkeys(ids, batch_id))
