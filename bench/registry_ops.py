"""Registry operations per second: Driftline's registry vs an MLflow tracking server on SQLite.

Three operations, each done ``ops`` times in a row per repeat, Driftline and MLflow
interleaved repeat by repeat so both see the same machine load:

- register a version: Driftline consumes a ``ModelTrained`` record (the registry's
  ``EventProcessor``: decode, inbox, spec gates, version row, ``ModelRegistered`` +
  ``ModelApproved`` into the outbox, one commit); MLflow gets ``POST model-versions/create``.
- set an alias: Driftline consumes a ``ModelPromoted`` record (champion and previous moved);
  MLflow gets ``POST registered-models/alias``.
- read by alias: both over HTTP from this process, the server a separate process:
  Driftline ``GET /v1/models/{name}/aliases/{alias}`` (the version with its lineage, one
  request), MLflow ``GET registered-models/alias``.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench import driftline_side, mlflow_peer
from bench.tables import rate_table, ratio
from driftline.registry.app import definition
from driftline.runtime.consumer import Outcome
from driftline_contracts.events.deployment import ModelPromoted
from driftline_contracts.events.training import ModelTrained
from driftline_contracts.examples import example
from driftline_contracts.values import ModelRef

MODEL = "bench-registry"
AIM = 5.0
DRIFTLINE = "Driftline"
MLFLOW = "MLflow"
Op = Callable[[int], Awaitable[Any]]


def spec_document() -> dict[str, Any]:
    """The model spec applied before registering (one absolute gate, automatic approval)."""
    return {
        "model": MODEL, "dataset": "bench-data", "target": "y", "task": "classification",
        "trainer": {"estimator": "sklearn.linear_model.LogisticRegression"},
        "gates": [{"metric": "accuracy", "min": 0.5}],
    }  # fmt: skip


def trained_event(i: int) -> ModelTrained:
    """A ``ModelTrained`` of a new run (run ids must differ, or the registry skips it)."""
    event = example(ModelTrained).model_copy(update={"model": MODEL, "run_id": f"bench-run-{i}"})
    assert isinstance(event, ModelTrained)
    return event


def promoted_event(version: int, previous: int) -> ModelPromoted:
    """A manual promotion of ``version`` replacing ``previous``."""
    event = example(ModelPromoted).model_copy(update={
        "model": ModelRef(name=MODEL, version=version),
        "previous": ModelRef(name=MODEL, version=previous),
        "via": "manual", "canary_id": None, "promoted_by": "user:bench",
    })  # fmt: skip
    assert isinstance(event, ModelPromoted)
    return event


class DriftlineOps:
    """The three operations on Driftline's registry."""

    def __init__(self, runtime: Any, client: httpx.AsyncClient) -> None:
        self.trained = driftline_side.processor(runtime, ModelTrained)
        self.promoted = driftline_side.processor(runtime, ModelPromoted)
        self.client = client
        self.offset = 0
        self.runs = 0

    async def _consume(self, processor: Any, event: Any) -> None:
        self.offset += 1
        outcome = await processor.process(driftline_side.raw_record(event, self.offset))
        assert outcome is Outcome.HANDLED, outcome

    async def register(self, _: int) -> None:
        """One new version from a ``ModelTrained`` record."""
        self.runs += 1
        await self._consume(self.trained, trained_event(self.runs))

    async def set_alias(self, i: int) -> None:
        """Champion to version 1 or 2 (alternating) from a ``ModelPromoted`` record."""
        version = 1 + i % 2
        await self._consume(self.promoted, promoted_event(version, 3 - version))

    async def read_alias(self, _: int) -> int:
        """The champion's version, with its lineage, over HTTP (one request)."""
        found = await self.client.get(f"/v1/models/{MODEL}/aliases/champion")
        return int(found.raise_for_status().json()["version"])


class MLflowOps:
    """The same operations on MLflow's model registry over REST."""

    def __init__(self, registry: mlflow_peer.MLflowRegistry, run_id: str, source: str) -> None:
        self.registry = registry
        self.run_id = run_id
        self.source = source

    async def register(self, _: int) -> int:
        """POST model-versions/create."""
        return await self.registry.register_version(MODEL, self.source, self.run_id)

    async def set_alias(self, i: int) -> None:
        """POST registered-models/alias (champion to version 1 or 2)."""
        await self.registry.set_alias(MODEL, "champion", 1 + i % 2)

    async def read_alias(self, _: int) -> int:
        """GET registered-models/alias."""
        return await self.registry.read_alias(MODEL, "champion")


async def rates(op: Op, ops: int) -> float:
    """Operations per second of ``ops`` sequential calls."""
    started = time.perf_counter()
    for i in range(ops):
        await op(i)
    return ops / (time.perf_counter() - started)


async def interleaved(impls: dict[str, Op], ops: int, repeats: int) -> dict[str, list[float]]:
    """Rates of each implementation, one warm-up round then ``repeats`` alternating rounds."""
    found: dict[str, list[float]] = {name: [] for name in impls}
    for op in impls.values():
        await rates(op, max(2, ops // 10))  # warm-up: connections, caches, first queries
    for _ in range(repeats):
        for name, op in impls.items():
            found[name].append(await rates(op, ops))
    return found


async def check_read_after_write(driftline: DriftlineOps, mlflow: MLflowOps) -> None:
    """Both registries read back the version an alias was just set to (negative control)."""
    for i in (0, 1):
        await driftline.set_alias(i)
        await mlflow.set_alias(i)
        assert await driftline.read_alias(i) == 1 + i % 2
        assert await mlflow.read_alias(i) == 1 + i % 2


async def measure_all(stack: driftline_side.Stack, mlflow_url: str, quick: bool) -> dict[str, Any]:
    """Every operation's rates on both sides."""
    ops, repeats = (10, 2) if quick else (100, 5)
    settings = driftline_side.settings_for(stack.info)
    timeout = httpx.Timeout(120.0)
    async with (
        driftline_side.in_process(definition(), settings) as runtime,
        httpx.AsyncClient(base_url=stack.url("registry"), timeout=timeout) as dl_client,
        httpx.AsyncClient(base_url=mlflow_url, timeout=timeout) as ml_client,
    ):
        applied = await dl_client.post(
            "/v1/specs", json=spec_document(), headers={"X-Driftline-Actor": "user:bench"}
        )
        applied.raise_for_status()
        driftline = DriftlineOps(runtime, dl_client)
        registry = mlflow_peer.MLflowRegistry(ml_client)
        await registry.create_model(MODEL)
        run_id, artifact_uri = await registry.create_run()
        mlflow = MLflowOps(registry, run_id, f"{artifact_uri}/model")
        for i in range(2):
            await driftline.register(i)
            await mlflow.register(i)
        await check_read_after_write(driftline, mlflow)
        return {
            "register": await interleaved(
                {DRIFTLINE: driftline.register, MLFLOW: mlflow.register}, ops, repeats
            ),
            "set_alias": await interleaved(
                {DRIFTLINE: driftline.set_alias, MLFLOW: mlflow.set_alias}, ops, repeats
            ),
            "read_alias": await interleaved(
                {DRIFTLINE: driftline.read_alias, MLFLOW: mlflow.read_alias},
                ops,
                repeats,
            ),
            "ops": ops,
            "repeats": repeats,
        }


TITLES = {
    "register": "register a version — Driftline: ModelTrained record → registry EventProcessor "
    "(decode, inbox, gates, version row, 2 outbox events, commit; in-process, no Kafka hop) · "
    "MLflow: POST model-versions/create over HTTP",
    "set_alias": "set an alias — Driftline: ModelPromoted record → registry EventProcessor "
    "(champion and previous moved, commit; in-process, no Kafka hop) · "
    "MLflow: POST registered-models/alias over HTTP",
    "read_alias": "read by alias over HTTP — Driftline: GET /v1/models/{name}/aliases/{alias} "
    "(registry process; the version with lineage) · MLflow: GET registered-models/alias",
}


def verdict(found: dict[str, Any]) -> list[str]:
    """Whether each operation reaches the aim, in words."""
    lines = [f"Aim: every registry operation at least {AIM:g}x MLflow's rate."]
    for key in TITLES:
        times = ratio(found[key], DRIFTLINE, MLFLOW)
        state = "met" if times >= AIM else "not met"
        lines.append(f"- {key.replace('_', ' ')}: {times:.1f}x MLflow's median rate — aim {state}.")
    return [*lines, ""]


def report(quick: bool) -> list[str]:
    """Markdown of the suite: method, one table per operation, the verdict."""
    mlflow_peer.ensure_venv()
    with (
        tempfile.TemporaryDirectory(prefix="mlflow-bench-") as folder,
        driftline_side.local_stack(("registry",)) as stack,
        mlflow_peer.mlflow_server(Path(folder)) as server,
        driftline_side.service_logging(Path(folder) / "driftline.log"),
    ):
        found = asyncio.run(measure_all(stack, server.url, quick))
    lines = [
        f"{found['ops']} sequential operations per round, {found['repeats']} rounds per side, "
        "Driftline and MLflow rounds alternating (after one warm-up round each); ops/s is the "
        f"median round, the range spans the rounds. MLflow {mlflow_peer.mlflow_version()}: "
        "`mlflow server` with one worker on a SQLite backend store. Driftline: the local stack "
        "(embedded PostgreSQL, tansu Kafka, rclone S3) with `driftline serve registry`. Both "
        "servers are separate processes; the client is this process (httpx, keep-alive).",
        "",
        "In MLflow's favour: its GenAI job runner, on by default in 3.x (seven huey consumers "
        "polling in the background), is switched off (`MLFLOW_SERVER_ENABLE_JOB_EXECUTION="
        "false`) and so is its access log; left on, the job runner made every MLflow request "
        "about ten times slower on this 2-core machine. Both stores commit durably (PostgreSQL "
        "with its default fsync and synchronous_commit, SQLite in its default journal mode). "
        "The writes are not the same amount of work: a Driftline registration also reads the "
        "newest spec and the champion, evaluates the gates, stores the lineage and queues two "
        "events; MLflow's stores a row. Driftline's writes are measured where they happen in "
        "production, in the registry's Kafka consumer, without the Kafka hop itself; MLflow's "
        "over HTTP, which is how its clients write.",
        "",
    ]
    for key, title in TITLES.items():
        lines += rate_table(f"### registry: {title}", found[key], MLFLOW)
    return lines + verdict(found)
