"""The loop under test as separate service processes on a stack of its own: start, feed, wait.

Ingest, validation, training and registry run as ``driftline serve`` processes. A pipeline
writes datasets to S3 and announces them with ``DataArrived``; the scenarios break something
underneath, and ``tests.reliability.account`` then counts what came out.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import signal
import time
import urllib.request
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd

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
from driftline_contracts.events.data import DataArrived
from driftline_contracts.publish import publish
from driftline_contracts.values import DatasetRef
from tests.integration.kafka_helpers import (
    end_offsets,
    settings_from,
    until_consumed,
    until_published,
)
from tests.tokens import stack_headers


def dataset_csv(index: int) -> bytes:
    """200 rows of the same distribution; values pinned to [0, 1] so inferred ranges hold."""
    rng = np.random.default_rng(index)
    x = rng.uniform(0, 1, size=(200, 3))
    x[0], x[1] = 0.0, 1.0
    frame = pd.DataFrame(x, columns=["x1", "x2", "x3"])
    frame["label"] = (x[:, 0] + 0.3 * rng.normal(size=200) > 0.5).astype(int)
    frame.loc[0, "label"], frame.loc[1, "label"] = 0, 1
    return frame.to_csv(index=False).encode()


def post(url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    """POST JSON with ``headers`` (a bearer token: the services run with auth on)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def get(url: str) -> Any:
    """GET JSON; the decoded answer."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def signal_pid(ref: ProcRef, sig: int) -> None:
    """Send ``sig`` to the process; a process that is already gone is fine."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(ref.pid, sig)


class Fleet:
    """The service processes under test; killed ones are replaced by fresh processes."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.info = stack.info()
        self.publisher = stack_headers(self.info, "publisher")
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

    def wait_ready(self, timeout_s: float = 180) -> None:
        """Block until every running service answers ``/readyz`` with 200."""
        wait_until_ready(list(self.running.values()), timeout_s=timeout_s)

    def url(self, name: str) -> str:
        return next(p.url for k, p in self.running.items() if k.split("#")[0] == name)


@contextlib.contextmanager
def running_fleet(stack: LocalStack, keys: Iterable[str]) -> Iterator[Fleet]:
    """``keys`` started as service processes and ready; stopped (SIGTERM) on the way out."""
    fleet = Fleet(stack)
    for key in keys:
        fleet.start(key)
    try:
        fleet.wait_ready()
        yield fleet
    finally:
        stop_services(stack, list(fleet.running.values()))


LOGISTIC_REGRESSION = {
    "estimator": "sklearn.linear_model.LogisticRegression",
    "params": {"max_iter": 200},
}


def classifier_spec(dataset: str, trainer: dict[str, Any] | None = None) -> dict[str, Any]:
    """A classifier spec trained on ``dataset`` (a quick logistic regression unless ``trainer``
    says otherwise); its model is ``<dataset>-clf``."""
    return {
        "model": f"{dataset}-clf",
        "dataset": dataset,
        "target": "label",
        "task": "classification",
        "trainer": trainer or LOGISTIC_REGRESSION,
        "split": {"holdout": 0.25, "seed": 1},
    }


async def apply_spec(fleet: Fleet, spec: dict[str, Any], timeout_s: float = 120) -> None:
    """POST ``spec`` to the registry and return once training and validation have handled it.

    A fixed pause is not enough: the scenarios kill services right after, and a consumer group
    still rebalancing (or waiting out a killed member's session) leaves the spec unread while
    the first data is validated, and data a model had no spec for is never trained.
    """
    bootstrap = fleet.info.kafka_bootstrap
    before = await end_offsets(bootstrap, topics.MODEL_SPEC_APPLIED)
    post(f"{fleet.url('registry')}/v1/specs", spec, fleet.publisher)
    readers = {key.split("#")[0] for key in fleet.running} & {"training", "validation"}
    groups = [f"driftline.{name}.on_model_spec_applied" for name in sorted(readers)]
    async with asyncio.timeout(timeout_s):
        ends = await until_published(bootstrap, topics.MODEL_SPEC_APPLIED, before)
        await until_consumed(bootstrap, groups, ends)


async def store_datasets(fleet: Fleet, dataset: str, indices: Iterable[int]) -> list[DatasetRef]:
    """Write each dataset to S3, as a pipeline does before it announces them."""
    store = build_artifact_store(settings_from(fleet.info.env()).storage)
    refs = []
    for index in indices:
        payload = dataset_csv(index)
        digest = hashlib.sha256(payload).hexdigest()
        key = f"pipelines/{dataset}/{digest}.csv"
        stored = await store.put_bytes(key, payload, content_type="text/csv")
        refs.append(
            DatasetRef(
                name=dataset, uri=stored.uri, sha256=digest, format="csv", size_bytes=len(payload)
            )
        )
    return refs


async def announce(fleet: Fleet, refs: Iterable[DatasetRef], pause_s: float = 0.2) -> list[str]:
    """Publish a DataArrived per stored dataset; their sha256s, once the broker acknowledged."""
    digests = []
    for ref in refs:
        await publish(
            DataArrived(dataset=ref),
            bootstrap_servers=fleet.info.kafka_bootstrap,
            source="pipeline/chaos",
            actor="pipeline:chaos",
        )
        digests.append(ref.sha256)
        await asyncio.sleep(pause_s)
    return digests


async def publish_arrivals(
    fleet: Fleet, dataset: str, indices: Iterable[int], pause_s: float = 0.2
) -> list[str]:
    """Write each dataset to S3 and announce it at once, like a pipeline; their sha256s."""
    digests = []
    for index in indices:
        digests += await announce(fleet, await store_datasets(fleet, dataset, [index]), pause_s)
    return digests


async def wait_for_versions(
    fleet: Fleet, model: str, count: int, timeout_s: float
) -> list[dict[str, Any]]:
    """Poll the registry until ``model`` has ``count`` versions (or the time is up), then wait
    a little more so a duplicate would show; the versions registered by then."""
    url = f"{fleet.url('registry')}/v1/models/{model}/versions"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if len(get(url)) >= count:
                break
        await asyncio.sleep(1)
    await asyncio.sleep(3)
    versions: list[dict[str, Any]] = get(url)
    return versions
