"""Scenarios 1 and 4 of the reliability campaign: kill -9 each service in turn while data flows.

Ingest, validation, registry and two training replicas (one consumer group) run as separate
``driftline serve`` processes on the session's real stack. Fifty distinct datasets arrive as
pipeline ``DataArrived`` events while each service is SIGKILLed at a seeded random moment and
restarted. Afterwards every dataset must be catalogued, validated and trained exactly once and
registered as exactly one version: nothing lost, no duplicate applied. Redeliveries are
counted, not forbidden.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import random
import signal
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.runtime.storage import build_artifact_store
from driftline.stack import LocalStack
from driftline.stack.procs import ProcRef
from driftline.stack.services import (
    ServiceProcess,
    start_services,
    stop_services,
    wait_until_ready,
)
from driftline_contracts import topics
from driftline_contracts.events.data import DataArrived, DataValidated
from driftline_contracts.events.training import ModelTrained
from driftline_contracts.publish import publish
from driftline_contracts.values import DatasetRef
from tests.integration.kafka_helpers import header, read_all, settings_from
from tests.reliability.figures import Figures

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
]

ARRIVALS = 50
SEED = 20261201
FLOW = ("ingest", "validation", "training", "registry")


def _dataset_csv(index: int) -> bytes:
    """200 rows of the same distribution; values pinned to [0, 1] so inferred ranges hold."""
    rng = np.random.default_rng(index)
    x = rng.uniform(0, 1, size=(200, 3))
    x[0], x[1] = 0.0, 1.0
    frame = pd.DataFrame(x, columns=["x1", "x2", "x3"])
    frame["label"] = (x[:, 0] + 0.3 * rng.normal(size=200) > 0.5).astype(int)
    frame.loc[0, "label"], frame.loc[1, "label"] = 0, 1
    return frame.to_csv(index=False).encode()


def _post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-Driftline-Actor": "user:chaos"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


class Fleet:
    """The service processes under test; killed ones are replaced by fresh processes."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.info = stack.info()
        self.running: dict[str, ServiceProcess] = {}
        self.recovery_s: dict[str, float] = {}

    def start(self, key: str) -> ServiceProcess:
        (process,) = start_services(self.stack, self.info, [key])
        self.running[key] = process
        return process

    def kill_and_restart(self, key: str) -> ServiceProcess:
        """SIGKILL the process and spawn its replacement at once (readiness is awaited later)."""
        signal_pid(self.running[key].ref, signal.SIGKILL)
        return self.start(key)

    def wait_recovered(self, key: str, replacement: ServiceProcess, killed_at: float) -> None:
        """Block until the replacement is ready; keep how long the service was away."""
        wait_until_ready([replacement], timeout_s=300)
        self.recovery_s[key] = time.monotonic() - killed_at

    def url(self, name: str) -> str:
        return next(p.url for k, p in self.running.items() if k.split("#")[0] == name)


def signal_pid(ref: ProcRef, sig: int) -> None:
    """Send ``sig`` to the process; a process that is already gone is fine."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(ref.pid, sig)


@pytest.fixture
def own_stack(tmp_path: Path, local_stack_control: LocalStack) -> Iterator[LocalStack]:
    """A stack of this test's own: consumer groups that earlier tests' killed or stopped
    service processes left behind on the session stack can keep tansu rebalancing them."""
    stack = LocalStack(tmp_path / "stack")
    stack.up()
    try:
        yield stack
    finally:
        stack.down()


@pytest.fixture
def fleet(own_stack: LocalStack) -> Iterator[Fleet]:
    """Ingest, validation, registry and two training replicas, each its own process."""
    fleet = Fleet(own_stack)
    for key in ("ingest", "validation", "registry", "training#a", "training#b"):
        fleet.start(key)
    try:
        wait_until_ready(list(fleet.running.values()), timeout_s=180)
        yield fleet
    finally:
        stop_services(own_stack, list(fleet.running.values()))


async def _publish_arrivals(fleet: Fleet, dataset: str) -> list[str]:
    """Write each dataset to S3 and publish its DataArrived, like a pipeline; sha256s back."""
    store = build_artifact_store(settings_from(fleet.info.env()).storage)
    digests = []
    for index in range(ARRIVALS):
        payload = _dataset_csv(index)
        digest = hashlib.sha256(payload).hexdigest()
        key = f"pipelines/{dataset}/{digest}.csv"
        stored = await store.put_bytes(key, payload, content_type="text/csv")
        event = DataArrived(
            dataset=DatasetRef(
                name=dataset, uri=stored.uri, sha256=digest, format="csv", size_bytes=len(payload)
            )
        )
        await publish(
            event,
            bootstrap_servers=fleet.info.kafka_bootstrap,
            source="pipeline/chaos",
            actor="pipeline:chaos",
        )
        digests.append(digest)
        await asyncio.sleep(0.2)
    return digests


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


def _events(records: list, ce_type: str, dataset: str) -> list[tuple[str, Any]]:
    found = []
    for record in records:
        if header(record, "ce_type") != ce_type:
            continue
        data = json.loads(record.value)
        if data.get("dataset", {}).get("name") == dataset:
            found.append((header(record, "ce_id"), data))
    return found


@pytest.mark.timeout(900)
async def test_kill_each_service_in_turn_loses_and_duplicates_nothing(
    fleet: Fleet, figures: Figures
) -> None:
    rng = random.Random(SEED)
    dataset = f"chaos-{rng.randrange(16**6):06x}"
    model = f"{dataset}-clf"
    spec = {
        "model": model,
        "dataset": dataset,
        "target": "label",
        "task": "classification",
        "trainer": {
            "estimator": "sklearn.linear_model.LogisticRegression",
            "params": {"max_iter": 200},
        },
        "split": {"holdout": 0.25, "seed": 1},
    }
    _post(f"{fleet.url('registry')}/v1/specs", spec)
    await asyncio.sleep(3)  # let training see the spec before the first data
    began = time.monotonic()
    digests, killed = await asyncio.gather(
        _publish_arrivals(fleet, dataset), _kill_each_in_turn(fleet, rng)
    )

    versions_url = f"{fleet.url('registry')}/v1/models/{model}/versions"
    deadline = time.monotonic() + 420
    versions: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        try:
            versions = _get(versions_url)
        except OSError:
            versions = []
        if len(versions) >= ARRIVALS:
            break
        await asyncio.sleep(2)
    await asyncio.sleep(3)  # anything duplicated would show up now
    versions = _get(versions_url)
    elapsed = time.monotonic() - began

    bootstrap = fleet.info.kafka_bootstrap
    validated = _events(
        await read_all(bootstrap, topics.DATA_VALIDATED, lambda _: True),
        DataValidated.ce_type,
        dataset,
    )
    trained = _events(
        await read_all(bootstrap, topics.MODEL_TRAINED, lambda _: True),
        ModelTrained.ce_type,
        dataset,
    )
    catalog = _get(f"{fleet.url('ingest')}/v1/datasets/{dataset}/versions")

    validated_ids = {event_id: data["dataset"]["sha256"] for event_id, data in validated}
    trained_ids = {event_id: data["dataset"]["sha256"] for event_id, data in trained}
    per_sha_validated = Counter(validated_ids.values())
    per_sha_trained = Counter(trained_ids.values())
    version_shas = Counter(v["dataset"]["sha256"] for v in versions)
    lost = len(set(digests) - set(version_shas))
    duplicates = sum(
        n - 1
        for c in (per_sha_validated, per_sha_trained, version_shas)
        for n in c.values()
        if n > 1
    )
    redeliveries = (len(validated) - len(validated_ids)) + (len(trained) - len(trained_ids))
    figures.record(
        "1+4. kill -9 each service in turn, two training replicas, 50 arrivals",
        **{
            "events in": ARRIVALS,
            "effects": f"{len(versions)} versions",
            "lost": lost,
            "duplicates applied": duplicates,
            "redeliveries": redeliveries,
            "recovery (max, s)": round(max(fleet.recovery_s.values()), 1),
            "killed": ", ".join(killed),
            "loop done in (s)": round(elapsed),
        },
    )

    assert lost == 0, f"datasets never registered: {set(digests) - set(version_shas)}"
    assert sorted(per_sha_validated) == sorted(digests)
    assert set(per_sha_validated.values()) == {1}, "a dataset validated twice"
    assert set(per_sha_trained.values()) == {1}, "a dataset trained twice"
    assert sorted(v["version"] for v in versions) == list(range(1, ARRIVALS + 1))
    assert len({v["run_id"] for v in versions}) == ARRIVALS
    assert len(catalog) == ARRIVALS
    assert len({v["sha256"] for v in catalog}) == ARRIVALS
