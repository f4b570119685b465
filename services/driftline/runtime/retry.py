"""Retry policies (tenacity): one per kind of dependency, and outages told apart from bugs.

An *outage* (PostgreSQL, S3 or Kafka unreachable, a timeout: ``errors.is_transient``) is
waited out with capped, jittered back-off. Any other exception is a *bug*: a background job
logs it with its traceback, counts it and backs off, instead of calling it an outage forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_never
from tenacity.stop import stop_after_attempt, stop_after_delay, stop_base
from tenacity.wait import wait_base

from driftline.runtime.errors import backoff_delay, is_transient
from driftline.runtime.settings import RetrySettings

T = TypeVar("T")
FailureKind = Literal["outage", "bug"]
Sleep = Callable[[float], Awaitable[None]]
Hook = Callable[[RetryCallState], None]


def failure_kind(exc: BaseException) -> FailureKind:
    """``outage`` when a dependency is unavailable (retrying will do), else ``bug``."""
    return "outage" if is_transient(exc) else "bug"


def is_failure(exc: BaseException) -> bool:
    """Retry any exception, for work that waits out bugs too; never cancellation (shutdown)."""
    return isinstance(exc, Exception)


def failure_of(state: RetryCallState) -> BaseException:
    """The exception the attempt described by ``state`` raised."""
    outcome = state.outcome
    exc = outcome.exception() if outcome is not None else None
    if exc is None:  # tenacity calls the hooks only after a failed attempt
        raise RuntimeError("no failed attempt to describe")
    return exc


def awaiting(fn: Callable[[], Awaitable[T]]) -> Callable[[], Coroutine[Any, Any, T]]:
    """``fn`` as a coroutine function: tenacity awaits only what it sees is one (a lambda
    returning a coroutine would be taken for a plain function)."""

    async def call() -> T:
        return await fn()

    return call


class stop_when(stop_base):  # noqa: N801 - named like tenacity's own stop conditions
    """Stop when ``predicate(state)`` holds (e.g. once enough failures were not outages)."""

    def __init__(self, predicate: Callable[[RetryCallState], bool]) -> None:
        self.predicate = predicate

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.predicate(retry_state)


class CappedJitter(wait_base):
    """``initial * 2**n`` capped at ``max_s``, each shortened by up to ``jitter`` of itself
    (``errors.backoff_delay``: consumers that failed together retry apart)."""

    def __init__(self, initial_s: float, max_s: float, jitter: float) -> None:
        self.initial_s, self.max_s, self.jitter = initial_s, max_s, jitter

    def __call__(self, retry_state: RetryCallState) -> float:
        return backoff_delay(
            retry_state.attempt_number - 1, self.initial_s, self.max_s, self.jitter
        )


@dataclass(frozen=True)
class RetryPolicy:
    """How to wait out one kind of dependency: back-off, jitter and when to give up."""

    dependency: str
    initial_s: float
    max_s: float
    jitter: float = 0.0
    attempts: int | None = None
    """Give up after this many attempts (None: keep trying)."""
    deadline_s: float | None = None
    """Give up once this long has passed since the first attempt (None: keep trying)."""

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (counting from 1)."""
        return backoff_delay(attempt - 1, self.initial_s, self.max_s, self.jitter)

    def with_(self, **changes: float | int | None) -> RetryPolicy:
        """This policy with some fields changed (``policy.with_(attempts=1)``)."""
        return replace(self, **changes)  # type: ignore[arg-type]  # fields checked by replace

    def retrying(
        self,
        *,
        retry_on: Callable[[BaseException], bool] = is_transient,
        sleep: Sleep = asyncio.sleep,
        on_retry: Hook | None = None,
        wait: Callable[[RetryCallState], float] | None = None,
        give_up: Callable[[RetryCallState], bool] | None = None,
    ) -> AsyncRetrying:
        """A tenacity controller: ``async for attempt in policy.retrying(): with attempt: …``
        or ``await policy.retrying()(fn)``; the last failure is re-raised when it gives up."""
        stop: stop_base = stop_never
        if self.attempts is not None:
            stop = stop_after_attempt(self.attempts)
        if self.deadline_s is not None:
            stop = stop | stop_after_delay(self.deadline_s)
        return AsyncRetrying(
            sleep=sleep,
            stop=stop if give_up is None else stop | stop_when(give_up),
            wait=wait or CappedJitter(self.initial_s, self.max_s, self.jitter),
            retry=retry_if_exception(retry_on),
            before_sleep=on_retry,
            reraise=True,
        )

    async def call(
        self,
        fn: Callable[[], Awaitable[T]],
        *,
        retry_on: Callable[[BaseException], bool] = is_transient,
        sleep: Sleep = asyncio.sleep,
        on_retry: Hook | None = None,
    ) -> T:
        """``fn()`` until it succeeds, the policy gives up, or it raises what is not retried."""
        return await self.retrying(retry_on=retry_on, sleep=sleep, on_retry=on_retry)(
            awaiting(fn)
        )


@dataclass(frozen=True)
class RetryPolicies:
    """The runtime's policy per kind of dependency."""

    database: RetryPolicy
    s3: RetryPolicy
    kafka: RetryPolicy

    @classmethod
    def from_settings(cls, retry: RetrySettings) -> RetryPolicies:
        """Policies with the configured back-off and jitter (``DRIFTLINE_RETRY__*``)."""

        def policy(dependency: str) -> RetryPolicy:
            return RetryPolicy(
                dependency, retry.initial_backoff_s, retry.max_backoff_s, retry.jitter
            )

        return cls(database=policy("database"), s3=policy("s3"), kafka=policy("kafka"))
