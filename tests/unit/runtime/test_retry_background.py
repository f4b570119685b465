"""Background jobs: an outage is waited out; a bug is loud, counted and backed off."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from driftline.runtime.background import BackgroundJob, report_failure
from driftline.runtime.metrics import Metrics
from driftline.runtime.retry import RetryPolicy


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def steps(*outcomes: BaseException | bool):
    """A job step that raises or returns each outcome in turn."""
    pending = list(outcomes)

    async def step() -> bool:
        outcome = pending.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return step


def errors(metrics: Metrics, kind: str) -> float:
    value = metrics.registry.get_sample_value(
        "driftline_background_errors_total", {"service": "svc", "job": "relay", "kind": kind}
    )
    return value or 0.0


def job(step, metrics: Metrics, sleeps: Sleeps) -> BackgroundJob:
    policy = RetryPolicy("database", initial_s=1.0, max_s=4.0)
    return BackgroundJob(
        "relay", step, policy, idle_s=9.0, metrics=metrics, bug_backoff_max_s=30.0, sleep=sleeps
    )


async def test_an_outage_is_logged_as_one_counted_and_retried() -> None:
    metrics, sleeps = Metrics("svc"), Sleeps()
    with capture_logs() as logs:
        worked = await job(steps(ConnectionRefusedError(111, "down"), True), metrics, sleeps)\
            .run_step()  # fmt: skip
    assert worked is True
    assert sleeps == [1.0]
    assert errors(metrics, "outage") == 1
    assert errors(metrics, "bug") == 0
    (line,) = logs
    assert line["log_level"] == "warning"
    assert line["event"] == "background job waiting out an outage"
    assert line["dependency"] == "database"


async def test_a_bug_is_an_error_with_its_traceback_counted_and_backed_off() -> None:
    metrics, sleeps = Metrics("svc"), Sleeps()
    bugs = [KeyError(f"missing {n}") for n in range(7)]
    with capture_logs() as logs:
        await job(steps(*bugs, False), metrics, sleeps).run_step()
    assert errors(metrics, "bug") == 7
    assert errors(metrics, "outage") == 0
    assert sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]  # past the outage cap, to its own
    assert {line["log_level"] for line in logs} == {"error"}
    assert all(isinstance(line["exc_info"], KeyError) for line in logs)  # the traceback
    assert logs[0]["event"] == "background job failed: a bug, not an outage"


async def test_an_idle_step_rests_and_cancellation_ends_the_job() -> None:
    metrics, sleeps = Metrics("svc"), Sleeps()
    background = job(steps(False, True, asyncio.CancelledError()), metrics, sleeps)
    with pytest.raises(asyncio.CancelledError):
        await background.run_forever()
    assert sleeps == [9.0]  # one idle rest; cancellation is not retried
    assert errors(metrics, "bug") == 0


def test_a_job_whose_next_round_is_its_retry_reports_outage_and_bug_apart() -> None:
    metrics = Metrics("svc")
    with capture_logs() as logs:
        assert report_failure("relay", TimeoutError(), metrics) == "outage"
        assert report_failure("relay", ZeroDivisionError("bug"), metrics) == "bug"
    assert (errors(metrics, "outage"), errors(metrics, "bug")) == (1, 1)
    assert [line["log_level"] for line in logs] == ["warning", "error"]
    assert isinstance(logs[1]["exc_info"], ZeroDivisionError)
