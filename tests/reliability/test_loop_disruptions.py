"""Scenarios 2, 3 and 5 of the reliability campaign: the loop while its infrastructure fails.

Ingest, validation, training and registry run as separate ``driftline serve`` processes on a
stack of this module's own. Each scenario applies a spec of its own, announces datasets as
pipeline ``DataArrived`` events and, while the loop works on them, breaks something:

2. the broker is SIGKILLed and restarted (its log lives in S3);
3. PostgreSQL is stopped for 30 s, then S3 for 30 s;
5. every service gets SIGTERM at once, exits by itself, and is started again.

Afterwards every dataset must be catalogued, validated, trained and registered exactly once,
and no record may sit on a dead-letter topic. The outages also measure the waiting itself:
failed attempts logged per second and the CPU the services burn until the dependency is back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from driftline.runtime.settings import ServiceSection
from driftline.stack import LocalStack
from tests.reliability.account import LoopAccount, account, dead_letters
from tests.reliability.figures import Figures
from tests.reliability.loop import (
    Fleet,
    announce,
    apply_spec,
    classifier_spec,
    get,
    publish_arrivals,
    running_fleet,
    store_datasets,
    wait_for_versions,
)
from tests.reliability.shutdown import (
    read_shutdown,
    reclaimed_runs,
    redelivered,
    terminate,
    until_training_runs,
)
from tests.reliability.watch import Watch, Watched, log_size

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
]

T = TypeVar("T")
FLOW = ("ingest", "validation", "training", "registry")
OUTAGE_S = 30.0
BROKER_DOWN_S = 10.0
MAX_ATTEMPTS_PER_S = 3.0
"""Failed attempts the four services may log per second of a PostgreSQL or S3 outage (a hot
loop logs hundreds): each retrying loop backs off to one attempt per ``retry.max_backoff_s``."""
MAX_BROKER_ATTEMPTS_PER_S = 250.0
"""The same while the broker is down. Kafka clients retry at a fixed pace, never backing off
further: the four services' clients (a consumer per subscription, the producers) log about
120 lines a second at the runtime's ``kafka.retry_backoff_ms`` of 1 s, and about 1,130 at
aiokafka's default of 100 ms."""
GRACEFUL_TIMEOUT_S = ServiceSection.model_fields["graceful_timeout_s"].default
"""How long a service may take to finish its in-flight work after SIGTERM (default)."""
MAX_CPU_SHARE = 0.25
"""CPU the four services may use while they wait, as a share of one core."""
SLOW_TRAINER = {
    "estimator": "sklearn.neural_network.MLPClassifier",
    "params": {
        "hidden_layer_sizes": [128, 128],
        "max_iter": 400,
        "tol": 0.0,
        "n_iter_no_change": 400,
        "random_state": 0,
    },
}
"""About 1.5 s a run on this machine (all 400 epochs), so SIGTERM finds one in flight."""


@pytest.fixture(scope="module")
def fleet(own_stack: LocalStack) -> Iterator[Fleet]:
    """The loop's services, each its own process, shared by the module's scenarios."""
    with running_fleet(own_stack, FLOW) as fleet:
        yield fleet


def _versions(fleet: Fleet, model: str) -> int | None:
    """Versions the registry holds for ``model``; None while it cannot answer."""
    try:
        return len(get(f"{fleet.url('registry')}/v1/models/{model}/versions"))
    except OSError:
        return None


async def _versions_now(fleet: Fleet, model: str) -> int:
    """Versions of ``model``, waiting for the registry to answer."""
    while True:
        count = _versions(fleet, model)
        if count is not None:
            return count
        await asyncio.sleep(0.5)


async def _model_for(
    fleet: Fleet, scenario: str, trainer: dict[str, Any] | None = None
) -> tuple[str, str]:
    """Apply a spec on a dataset of the scenario's own; (dataset, model)."""
    fleet.wait_ready()  # an earlier scenario may have restarted something
    dataset = f"disrupt-{scenario}-{time.time_ns() % 16**6:06x}"
    spec = classifier_spec(dataset, trainer)
    await apply_spec(fleet, spec)
    return dataset, spec["model"]


async def _progress_after(fleet: Fleet, model: str, than: int, since: float) -> float:
    """Seconds from ``since`` until ``model`` has more than ``than`` versions."""
    while True:
        if (_versions(fleet, model) or 0) > than:
            return round(time.monotonic() - since, 1)
        await asyncio.sleep(0.5)


async def _outage(
    fleet: Fleet,
    stop: Callable[[], None],
    start: Callable[[], None],
    during: Callable[[], Awaitable[T]],
) -> tuple[Watched, float, T]:
    """Stop a dependency for ``OUTAGE_S`` while ``during()`` runs and the services are
    watched; their figures, the moment the dependency was back, and what ``during`` returned."""
    await asyncio.to_thread(stop)
    watch = Watch(fleet.running)
    _, result = await asyncio.gather(asyncio.sleep(OUTAGE_S), during())
    watched = watch.stop()
    await asyncio.to_thread(start)
    return watched, time.monotonic(), result


@dataclass(frozen=True)
class LoopEnd:
    """How a scenario's loop ended: the account, dead letters, reclaimed runs, duration."""

    outcome: LoopAccount
    dead: int
    reclaimed: int
    elapsed_s: float

    def record(self, figures: Figures, scenario: str, **own: Any) -> None:
        """Record the scenario's row: the account's columns, its own figures, then ours."""
        figures.record(
            scenario,
            **{
                **self.outcome.figures(),
                **own,
                "dead letters": self.dead,
                "runs reclaimed after their lease": self.reclaimed,
                "loop done in (s)": round(self.elapsed_s),
            },
        )

    def check(self) -> None:
        """Each dataset exactly once, nothing dead-lettered, no run reclaimed."""
        assert self.outcome.problems() == []
        assert self.dead == 0
        assert self.reclaimed == 0


async def _finish(
    fleet: Fleet,
    dataset: str,
    digests: list[str],
    model: str,
    arrivals: int,
    began: float,
    *,
    timeout_s: float,
) -> LoopEnd:
    """Wait until every arrival is a version, then account for the loop."""
    await wait_for_versions(fleet, model, arrivals, timeout_s=timeout_s)
    elapsed = time.monotonic() - began
    return LoopEnd(
        await account(fleet, dataset, digests, model),
        await dead_letters(fleet.info.kafka_bootstrap),
        reclaimed_runs(fleet, model),
        elapsed,
    )


@pytest.mark.timeout(300)
async def test_broker_killed_mid_loop_loses_nothing_acknowledged(
    fleet: Fleet, own_stack: LocalStack, figures: Figures
) -> None:
    arrivals = 8
    dataset, model = await _model_for(fleet, "broker")
    began = time.monotonic()
    digests = await publish_arrivals(fleet, dataset, range(arrivals // 2))
    await _progress_after(fleet, model, 0, began)  # the loop is mid-way through them
    await asyncio.to_thread(own_stack.kill_broker)
    watch = Watch(fleet.running)
    await asyncio.sleep(BROKER_DOWN_S)
    watched = watch.stop()
    await asyncio.to_thread(own_stack.start_broker)
    back, before = time.monotonic(), await _versions_now(fleet, model)
    digests += await publish_arrivals(fleet, dataset, range(arrivals // 2, arrivals))
    recovery = await _progress_after(fleet, model, before, back)
    end = await _finish(fleet, dataset, digests, model, arrivals, began, timeout_s=180)
    end.record(
        figures,
        f"2. kill -9 the broker mid-loop, restart after {BROKER_DOWN_S:g} s, {arrivals} arrivals",
        **{
            "recovery (s)": recovery,
            "versions before the kill": before,
            **watched.figures("while down:"),
        },
    )
    end.check()
    assert watched.attempts_per_s <= MAX_BROKER_ATTEMPTS_PER_S, watched.failed_attempts
    assert watched.cpu_share <= MAX_CPU_SHARE


@pytest.mark.timeout(400)
async def test_postgres_then_s3_away_30s_are_waited_out(
    fleet: Fleet, own_stack: LocalStack, figures: Figures
) -> None:
    arrivals = 8
    dataset, model = await _model_for(fleet, "outage")
    refs = await store_datasets(fleet, dataset, range(arrivals))
    began = time.monotonic()
    digests = await announce(fleet, refs[:4])
    before = await _versions_now(fleet, model)  # nothing registers while PostgreSQL is down
    # More datasets are announced during each outage, so every service has work waiting.
    pg, pg_back, later = await _outage(
        fleet,
        own_stack.stop_postgres,
        own_stack.start_postgres,
        lambda: announce(fleet, refs[4:6], pause_s=2),
    )
    digests += later
    pg_recovery = await _progress_after(fleet, model, before, pg_back)
    s3, s3_back, later = await _outage(
        fleet, own_stack.stop_s3, own_stack.start_s3, lambda: announce(fleet, refs[6:], pause_s=2)
    )
    digests += later
    # The registry needs no S3, so versions trained before the outage may register during
    # it; a version registered after this count was trained once S3 was back.
    s3_recovery = await _progress_after(fleet, model, await _versions_now(fleet, model), s3_back)
    end = await _finish(fleet, dataset, digests, model, arrivals, began, timeout_s=240)
    end.record(
        figures,
        f"3. PostgreSQL stopped {OUTAGE_S:g} s, then S3 {OUTAGE_S:g} s, mid-loop, "
        f"{arrivals} arrivals",
        **{
            "recovery after PostgreSQL (s)": pg_recovery,
            "recovery after S3 (s)": s3_recovery,
            **pg.figures("PostgreSQL down:"),
            **s3.figures("S3 down:"),
        },
    )
    end.check()
    for watched in (pg, s3):
        assert watched.attempts_per_s <= MAX_ATTEMPTS_PER_S, watched.failed_attempts
        assert watched.cpu_share <= MAX_CPU_SHARE


@pytest.mark.timeout(300)
async def test_sigterm_under_load_finishes_in_flight_work(fleet: Fleet, figures: Figures) -> None:
    arrivals = 8
    grace_s = GRACEFUL_TIMEOUT_S
    dataset, model = await _model_for(fleet, "sigterm", SLOW_TRAINER)
    began = time.monotonic()
    digests = await publish_arrivals(fleet, dataset, range(3))
    await _progress_after(fleet, model, 0, began)  # training has a backlog now
    # A burst, so ingest and validation are busy too; SIGTERM while a run trains.
    digests += await publish_arrivals(fleet, dataset, range(3, arrivals), pause_s=0)
    await until_training_runs(fleet)
    signalled_at = {k: log_size(p.log_path) for k, p in fleet.running.items()}
    stopped_in = await asyncio.to_thread(terminate, fleet, grace_s + 5)
    exited_at = {k: log_size(p.log_path) for k, p in fleet.running.items()}
    shutdown = read_shutdown(fleet, signalled_at, exited_at)
    respawned = time.monotonic()
    for key in FLOW:
        fleet.start(key)
    await asyncio.to_thread(fleet.wait_ready)
    ready_in = round(time.monotonic() - respawned, 1)
    end = await _finish(fleet, dataset, digests, model, arrivals, began, timeout_s=180)
    in_flight = shutdown.in_flight_events + len(shutdown.in_flight_jobs)
    # A cut-off event is delivered again; so is one whose offset the shutdown lost.
    redeliveries = redelivered(fleet, exited_at) + shutdown.cut_off
    end.record(
        figures,
        f"5. SIGTERM to every service under load, {arrivals} arrivals",
        **{
            "redeliveries": redeliveries,  # also counts inbox skips and runs claimed again
            "in flight at SIGTERM": f"{shutdown.in_flight_events} events, "
            f"{len(shutdown.in_flight_jobs)} training runs",
            "finished before exit": f"{len(shutdown.finished_jobs & shutdown.in_flight_jobs)} "
            f"runs, {shutdown.in_flight_events - shutdown.cut_off} events",
            "republished by a relay": end.outcome.redeliveries,
            "stopped in (max, s)": max(stopped_in.values()),
            "grace (s)": grace_s,
            "recovery (ready again, s)": ready_in,
        },
    )
    assert all(s <= grace_s for s in stopped_in.values()), stopped_in
    assert shutdown.clean == set(FLOW)
    assert shutdown.cut_off == 0
    assert shutdown.in_flight_jobs <= shutdown.finished_jobs, "a training run was cut off"
    assert redeliveries <= in_flight
    assert end.outcome.redeliveries == 0, "a relay stopped mid-batch and published it again"
    end.check()
