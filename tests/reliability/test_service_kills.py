"""Scenarios 1 and 4 of the reliability campaign: kill -9 each service in turn while data flows.

Ingest, validation, registry and two training replicas (one consumer group) run as separate
``driftline serve`` processes on a real stack of its own. Fifty distinct datasets arrive as
pipeline ``DataArrived`` events while each service is SIGKILLed at a seeded random moment and
restarted. Afterwards every dataset must be catalogued, validated and trained exactly once and
registered as exactly one version: nothing lost, no duplicate applied. Redeliveries are
counted, not forbidden.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftline.stack import LocalStack
from tests.own_stack import stack_of_its_own
from tests.reliability.account import account
from tests.reliability.figures import Figures
from tests.reliability.loop import (
    Fleet,
    apply_spec,
    classifier_spec,
    publish_arrivals,
    running_fleet,
    wait_for_versions,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
]

ARRIVALS = 50
SEED = 20261201


@pytest.fixture
def own_stack(tmp_path: Path, local_stack_control: LocalStack) -> Iterator[LocalStack]:
    """A stack of this test's own (see ``stack_of_its_own``); needs a local session stack."""
    with stack_of_its_own(tmp_path / "stack") as stack:
        yield stack


@pytest.fixture
def fleet(own_stack: LocalStack) -> Iterator[Fleet]:
    """Ingest, validation, registry and two training replicas, each its own process."""
    with running_fleet(
        own_stack, ("ingest", "validation", "registry", "training#a", "training#b")
    ) as fleet:
        yield fleet


async def _kill_each_in_turn(fleet: Fleet, rng: random.Random) -> list[str]:
    """SIGKILL every service of the flow once, at seeded random moments while the data
    arrives, respawning each at once; returns when every replacement is ready."""
    order = ["validation", "training#a", "registry", "ingest", "training#b"]
    recoveries = []
    for key in order:
        await asyncio.sleep(rng.uniform(0.5, 3.0))
        killed_at = time.monotonic()
        replacement = fleet.kill_and_restart(key)
        recoveries.append(asyncio.to_thread(fleet.wait_recovered, key, replacement, killed_at))
    await asyncio.gather(*recoveries)
    return order


@pytest.mark.timeout(900)
async def test_kill_each_service_in_turn_loses_and_duplicates_nothing(
    fleet: Fleet, figures: Figures
) -> None:
    rng = random.Random(SEED)
    dataset = f"chaos-{rng.randrange(16**6):06x}"
    model = f"{dataset}-clf"
    await apply_spec(fleet, classifier_spec(dataset))
    began = time.monotonic()
    digests, killed = await asyncio.gather(
        publish_arrivals(fleet, dataset, range(ARRIVALS)), _kill_each_in_turn(fleet, rng)
    )
    await wait_for_versions(fleet, model, ARRIVALS, timeout_s=420)
    elapsed = time.monotonic() - began
    outcome = await account(fleet, dataset, digests, model)
    figures.record(
        "1+4. kill -9 each service in turn, two training replicas, 50 arrivals",
        **{
            **outcome.figures(),
            "recovery (max, s)": round(max(fleet.recovery_s.values()), 1),
            "killed": ", ".join(killed),
            "loop done in (s)": round(elapsed),
        },
    )
    assert outcome.problems() == []
