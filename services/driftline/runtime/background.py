"""Background jobs that tell an outage from a bug.

A job is a step run over and over (``step() -> worked``; idle steps wait ``idle_s``). A step
that fails with an outage (``retry.failure_kind``) is logged as one, counted and retried with
the dependency's back-off. Any other exception is a bug: logged as an error with its
traceback, counted as ``driftline_background_errors_total{kind="bug"}``, and retried after a
back-off that grows to ``bug_backoff_max_s``, so a broken job neither spins nor passes for an
outage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tenacity import RetryCallState

from driftline.runtime.logging import get_logger
from driftline.runtime.metrics import Metrics
from driftline.runtime.retry import (
    CappedJitter,
    FailureKind,
    RetryPolicy,
    Sleep,
    awaiting,
    failure_kind,
    failure_of,
    is_failure,
)

log = get_logger(__name__)


def report_failure(
    job: str, exc: BaseException, metrics: Metrics | None = None, **context: object
) -> FailureKind:
    """Log and count a background job's failure: an outage as a warning, a bug as an error
    with its traceback (for jobs whose next round is their retry)."""
    kind = failure_kind(exc)
    if metrics is not None:
        metrics.background_errors.labels(metrics.service, job, kind).inc()
    if kind == "outage":
        log.warning("background job waiting out an outage", job=job, error=repr(exc), **context)
    else:
        log.error("background job failed: a bug, not an outage", job=job, error=repr(exc),
                  exc_info=exc, **context)  # fmt: skip
    return kind


@dataclass
class BackgroundJob:
    """One named background job: ``run_forever`` repeats ``step`` until cancelled."""

    name: str
    step: Callable[[], Awaitable[bool]]
    policy: RetryPolicy
    idle_s: float
    metrics: Metrics | None = None
    bug_backoff_max_s: float = 60.0
    sleep: Sleep = asyncio.sleep

    async def run_forever(self) -> None:
        """Run the step until cancelled; idle steps are followed by ``idle_s`` of rest."""
        while True:
            if not await self.run_step():
                await self.sleep(self.idle_s)

    async def run_step(self) -> bool:
        """One successful step (failures retried as described in the module docstring)."""
        retrying = self.policy.retrying(
            retry_on=is_failure, sleep=self.sleep, on_retry=self._failed, wait=self._wait
        )
        return await retrying(awaiting(self.step))

    def _wait(self, state: RetryCallState) -> float:
        outage = failure_kind(failure_of(state)) == "outage"
        cap = self.policy.max_s if outage else self.bug_backoff_max_s  # bugs: their own cap
        return CappedJitter(self.policy.initial_s, cap, self.policy.jitter)(state)

    def _failed(self, state: RetryCallState) -> None:
        report_failure(
            self.name,
            failure_of(state),
            self.metrics,
            dependency=self.policy.dependency,
            attempt=state.attempt_number,
            retry_in_s=state.upcoming_sleep,
        )
