"""The restart policy of ``driftline up``: which exits are crashes, back-off, burst limit."""

from __future__ import annotations

import signal

import pytest

from driftline.stack.restarts import (
    GiveUp,
    Restart,
    RestartPolicy,
    describe_exit,
    is_failure,
    next_restart,
)


@pytest.mark.parametrize(
    ("code", "crash"),
    [
        (-signal.SIGKILL, True),
        (-signal.SIGSEGV, True),
        (1, True),
        (3, True),
        (None, True),
        (0, False),
        (-signal.SIGTERM, False),
        (-signal.SIGINT, False),
    ],
)
def test_only_unrequested_deaths_are_crashes(code: int | None, crash: bool) -> None:
    assert is_failure(code) is crash


def test_back_off_doubles_up_to_the_cap() -> None:
    policy = RestartPolicy(backoff_s=1, max_backoff_s=5, burst=10, window_s=1000)
    crashes: list[float] = []
    delays = []
    for now in range(0, 70, 10):
        decision = next_restart(policy, crashes, float(now))
        assert isinstance(decision, Restart)
        delays.append(decision.delay_s)
        crashes.append(float(now))
    assert delays == [1, 2, 4, 5, 5, 5, 5]


def test_gives_up_after_burst_restarts_within_the_window() -> None:
    policy = RestartPolicy(burst=3, window_s=60)
    crashes = [0.0, 10.0, 20.0]
    assert next_restart(policy, crashes[:2], 20.0) == Restart(attempt=3, delay_s=4.0)
    assert next_restart(policy, crashes, 30.0) == GiveUp(crashes=4)


def test_crashes_older_than_the_window_are_forgotten() -> None:
    policy = RestartPolicy(burst=3, window_s=60)
    # three crashes long ago, then one now: a fresh first restart with the shortest delay
    assert next_restart(policy, [0.0, 10.0, 20.0], 200.0) == Restart(attempt=1, delay_s=1.0)
    # a crash exactly window_s ago no longer counts
    assert next_restart(policy, [0.0, 10.0, 20.0], 80.0) == Restart(attempt=1, delay_s=1.0)


@pytest.mark.parametrize(
    "kwargs",
    [{"backoff_s": 0}, {"backoff_s": 10, "max_backoff_s": 5}, {"burst": 0}, {"window_s": 0}],
)
def test_nonsense_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="need"):
        RestartPolicy(**kwargs)


def test_exits_are_described_for_people() -> None:
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(2) == "exit code 2"
    assert describe_exit(None) == "exit status unknown"
    assert describe_exit(-200) == "killed by signal 200"
