"""What the prediction-log sender needs from the outside world, by role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from driftline.deployment.prediction_log.rows import LoggedRow

Emit = Callable[[Any], Awaitable[object]]
"""Sends an event through the outbox, in the caller's transaction (``UnitOfWork.emit``)."""


class LoggedPredictions(Protocol):
    """The prediction log as the sender reads it: registered batches and rows not yet sent."""

    async def close_batch(self, batch_id: str) -> bool: ...
    async def stale_batches(self, before: datetime, limit: int) -> list[tuple[str, str, int]]: ...
    async def batch_rows(self, batch_id: str) -> list[LoggedRow]: ...
    async def unsent_summary(self, before: datetime) -> tuple[int, datetime | None]: ...
    async def claim_unsent(self, limit: int, before: datetime) -> list[LoggedRow]: ...
    async def mark_sent(self, ids: Sequence[int], batch_id: str) -> None: ...


class UnsentShadowAnswers(Protocol):
    """The challenger's answers to mirrored requests that no batch has sent yet."""

    async def unsent_summary(self) -> tuple[int, datetime | None]: ...
    async def claim_unsent(self, limit: int) -> list[LoggedRow]: ...
    async def mark_sent(self, ids: Sequence[int], batch_id: str) -> None: ...
