"""Failure classification: transient outages are retried forever, everything else is not."""

from __future__ import annotations

import asyncio
import random

import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError
from asyncpg.exceptions._base import DataError as ArgumentDataError
from sqlalchemy import exc as sa_exc


class TransientError(Exception):
    """A dependency is unavailable right now; the same work will succeed later."""


def _transient_types() -> tuple[type[BaseException], ...]:
    from driftline.runtime.storage.errors import StoreUnavailable

    return (
        TransientError,
        StoreUnavailable,
        ConnectionError,
        TimeoutError,
        asyncio.TimeoutError,
        asyncpg.PostgresConnectionError,
        asyncpg.CannotConnectNowError,
        asyncpg.InterfaceError,
        asyncpg.exceptions.AdminShutdownError,
        asyncpg.exceptions.CrashShutdownError,
        KafkaConnectionError,
        KafkaTimeoutError,
        NodeNotReadyError,
    )


def is_invalid_input(exc: BaseException) -> bool:
    """Whether PostgreSQL refused a value as given (out of range, NUL in text): never transient.

    asyncpg's client-side ``DataError`` subclasses its ``InterfaceError``, which otherwise
    means a broken connection; without this check such an event would be retried forever.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ArgumentDataError | asyncpg.DataError):
            return True
        orig = seen.orig if isinstance(seen, sa_exc.DBAPIError) else None
        seen = orig if isinstance(orig, BaseException) else seen.__cause__
    return False


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` means "a dependency is down" rather than "this event cannot be handled"."""
    if is_invalid_input(exc):
        return False
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None:
        return is_transient(exc.orig)
    if isinstance(exc, _transient_types()):
        return True
    # Drivers wrap connection failures (``raise X from err``); follow explicit causes only,
    # so a domain error raised while handling an I/O error is not mistaken for an outage.
    cause = exc.__cause__
    return cause is not None and is_transient(cause)


def backoff_delay(attempt: int, initial_s: float, max_s: float, jitter: float = 0.0) -> float:
    """Back-off ``initial * 2**attempt`` capped at ``max_s`` (attempt counts from 0), then
    shortened by a random part of up to ``jitter`` of itself, so that consumers which failed
    together (a PostgreSQL restart) do not all retry at the same instant."""
    delay = float(min(max_s, initial_s * (2 ** min(attempt, 30))))
    return delay * (1.0 - jitter * random.random()) if jitter else delay
