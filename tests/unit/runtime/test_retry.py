"""Retry policies: back-off with jitter, giving up, and what is retried at all."""

from __future__ import annotations

import pytest

from driftline.runtime.errors import TransientError
from driftline.runtime.retry import RetryPolicies, RetryPolicy, failure_kind
from driftline.runtime.settings import RetrySettings


class Sleeps(list[float]):
    """A sleep that records how long it was asked to wait."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def flaky(failures: list[BaseException]):
    """A call that raises the given exceptions in turn, then answers 'ok'."""
    calls = []

    async def call() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "ok"

    call.calls = calls  # type: ignore[attr-defined]
    return call


async def test_an_outage_is_waited_out_with_doubling_capped_back_off() -> None:
    sleeps = Sleeps()
    policy = RetryPolicy("database", initial_s=0.5, max_s=2.0)
    outage = [ConnectionRefusedError(111, "down") for _ in range(4)]
    assert await policy.call(flaky(outage), sleep=sleeps) == "ok"
    assert sleeps == [0.5, 1.0, 2.0, 2.0]


async def test_jitter_shortens_each_wait_by_at_most_its_fraction() -> None:
    sleeps = Sleeps()
    policy = RetryPolicy("s3", initial_s=1.0, max_s=1.0, jitter=0.2)
    await policy.call(flaky([TimeoutError() for _ in range(50)]), sleep=sleeps)
    assert all(0.8 <= s <= 1.0 for s in sleeps)
    assert len(set(sleeps)) > 1  # spread, not one instant for every consumer


async def test_an_error_that_is_not_an_outage_is_raised_at_once() -> None:
    sleeps = Sleeps()
    call = flaky([KeyError("bug")])
    with pytest.raises(KeyError):
        await RetryPolicy("kafka", 0.1, 1.0).call(call, sleep=sleeps)
    assert sleeps == []
    assert len(call.calls) == 1


async def test_a_policy_with_attempts_gives_up_with_the_last_failure() -> None:
    sleeps = Sleeps()
    call = flaky([TransientError("one"), TransientError("two"), TransientError("three")])
    with pytest.raises(TransientError, match="two"):
        await RetryPolicy("database", 0.1, 1.0, attempts=2).call(call, sleep=sleeps)
    assert len(call.calls) == 2


async def test_policies_follow_the_retry_settings() -> None:
    policies = RetryPolicies.from_settings(
        RetrySettings(initial_backoff_s=0.3, max_backoff_s=4.0, jitter=0.5)
    )
    assert {p.dependency for p in (policies.database, policies.s3, policies.kafka)} == {
        "database", "s3", "kafka",
    }  # fmt: skip
    assert (policies.kafka.initial_s, policies.kafka.max_s, policies.kafka.jitter) == (
        0.3, 4.0, 0.5,
    )  # fmt: skip
    assert policies.database.with_(attempts=1).attempts == 1


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ConnectionRefusedError(111, "refused"), "outage"),
        (TimeoutError(), "outage"),
        (TransientError("S3 is down"), "outage"),
        (KeyError("missing"), "bug"),
        (TypeError("unsupported operand"), "bug"),
        (ValueError("bad row"), "bug"),
    ],
)
def test_failures_are_outages_or_bugs(exc: BaseException, kind: str) -> None:
    assert failure_kind(exc) == kind


def test_a_bug_raised_while_handling_an_outage_is_still_a_bug() -> None:
    bug = AttributeError("typo in the handler")
    bug.__context__ = ConnectionResetError("reset")  # raised in the outage's except block
    assert failure_kind(bug) == "bug"
    bug.__cause__ = ConnectionResetError("reset")  # a driver wrapping the outage: an outage
    assert failure_kind(bug) == "outage"


async def test_give_up_stops_once_enough_failures_were_bugs_while_outages_go_on() -> None:
    sleeps, bugs = Sleeps(), []
    failures = [TimeoutError(), ValueError("a"), TimeoutError(), TimeoutError(), ValueError("b")]

    async def call() -> str:
        exc = failures.pop(0)
        if not isinstance(exc, TimeoutError):
            bugs.append(exc)
        raise exc

    retrying = RetryPolicy("kafka", 0.1, 1.0).retrying(
        retry_on=lambda exc: True, sleep=sleeps, give_up=lambda _: len(bugs) >= 2
    )
    with pytest.raises(ValueError, match="b"):
        await retrying(call)
    assert len(sleeps) == 4  # three outages and one bug waited out; the second bug ends it
