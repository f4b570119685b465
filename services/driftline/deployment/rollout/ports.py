"""What rollout's workflows need from the outside world, by role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from driftline.deployment.prediction_log.rows import LoggedRow
from driftline.deployment.records import Canary, Deployment, Served
from driftline_contracts.modelspec import CanaryPolicy
from driftline_contracts.values import ArtifactRef, CanaryStep, ModelRef

Emit = Callable[[Any], Awaitable[object]]
"""Sends an event through the outbox, in the caller's transaction (``UnitOfWork.emit``)."""


class Rollouts(Protocol):
    """Where canary policies, recorded versions, champions and rollouts are kept."""

    async def policy(self, model: str) -> CanaryPolicy: ...
    async def has_version(self, model: ModelRef) -> bool: ...
    async def servable(self, model: ModelRef) -> Served | None: ...
    async def record_version(
        self, model: ModelRef, artifact: ArtifactRef, event_id: str, error: str | None = None
    ) -> None: ...
    async def set_champion(self, model: ModelRef) -> None: ...
    async def start_canary(
        self, canary_id: str, challenger: ModelRef, champion: ModelRef,
        steps: tuple[CanaryStep, ...], now: datetime, cause: str | None = None,
    ) -> None: ...  # fmt: skip
    async def update_canary(self, canary_id: str, **values: Any) -> None: ...
    async def deployment(self, name: str) -> Deployment: ...
    async def lock_canary(self, canary_id: str) -> Canary | None: ...
    async def lock_active(self, name: str) -> Canary | None: ...
    async def last_report(self, canary_id: str) -> dict[str, Any] | None: ...


class CanaryTraffic(Protocol):
    """The prediction log as the judge reads it: a rollout's logged rows since its step began."""

    async def canary_requests(self, canary_id: str, since: datetime) -> int: ...
    async def window(self, canary_id: str, since: datetime) -> list[LoggedRow]: ...


class ShadowAnswers(Protocol):
    """The challenger's answers to mirrored requests, paired with the champion's."""

    async def count(self, canary_id: str, since: datetime) -> int: ...
    async def pairs(self, canary_id: str, since: datetime) -> list[tuple[LoggedRow, LoggedRow]]: ...


class ModelLoader(Protocol):
    """Fetches, verifies and loads an approved version so it can serve (raises ``UNLOADABLE``)."""

    async def load(self, model: ModelRef, artifact: ArtifactRef) -> None: ...
