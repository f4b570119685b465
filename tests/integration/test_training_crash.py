"""Training and registry as real processes: kill -9 of training mid-fit, then a restart, gives
exactly one ModelTrained and one registered version; `driftline reproduce MODEL@VERSION`
retrains a version to identical metrics and refuses data whose bytes changed; a drift retrain
adds the labelled production rows (predictions joined with ground truth)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import hashlib
import io
import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pandas as pd
import psutil
import pytest
from aiokafka import ConsumerRecord
from sklearn.datasets import load_breast_cancer

from driftline.deployment.prediction_log.columnar import (
    VersionRows,
    feature_columns,
    parquet_bytes,
    version_table,
)
from driftline.stack import LocalStack, StackInfo
from driftline.stack.procs import free_port, is_alive
from driftline.stack.services import (
    ServiceProcess,
    start_services,
    stop_services,
    wait_until_ready,
)
from driftline.stack.tokens import role_tokens
from driftline_contracts import topics
from driftline_contracts.codec import decode
from driftline_contracts.events.data import DataValidated
from driftline_contracts.events.monitoring import (
    DriftDetected,
    GroundTruthReceived,
    PredictionRow,
    PredictionsLogged,
)
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.events.training import ModelTrained, TrainingStarted
from driftline_contracts.examples import example
from driftline_contracts.modelspec import ModelSpec, spec_hash
from driftline_contracts.values import ArtifactRef, DatasetRef, ModelRef, TimeWindow
from tests.integration.cli_process import run_cli
from tests.integration.kafka_helpers import header, read_all, read_topic
from tests.integration.s3_datasets import cancer_frame, put_csv, put_frame, stack_minio
from tests.own_stack import stack_of_its_own
from tests.signing import publish_signed
from tests.unit.training.plugins import PLUGIN_PATH

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
]

UID = uuid.uuid4().hex[:10]
CRASH_MODEL = f"crash-clf-{UID}"
REPRO_MODEL = f"repro-clf-{UID}"
DRIFT_MODEL = f"drift-clf-{UID}"
LEASE_S = 600


class _Services:
    """The registry, and one ``driftline serve training`` on a fixed port to restart it on."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.port = free_port()
        self.registry: ServiceProcess | None = None
        self.training: ServiceProcess | None = None
        self.orphans: list[psutil.Process] = []

    @property
    def training_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_registry(self) -> None:
        (self.registry,) = start_services(self.stack, self.stack.info(), ["registry"])

    def start_training(self) -> ServiceProcess:
        env = {
            "DRIFTLINE_TRAINING__PORT": str(self.port),
            "DRIFTLINE_TRAINING__POLL_INTERVAL_S": "0.2",
            # Far longer than the test: the resume must not wait for the lease to run out.
            "DRIFTLINE_TRAINING__LEASE_S": str(LEASE_S),
            # Installs the test trainer plug-ins (slow_logistic) in the service's environment.
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(PLUGIN_PATH), os.environ.get("PYTHONPATH")) if p
            ),
        }
        (started,) = start_services(self.stack, self.stack.info(), ["training"], env)
        self.training = dataclasses.replace(started, url=self.training_url)
        wait_until_ready([p for p in (self.training, self.registry) if p], timeout_s=120)
        return self.training

    def kill_training(self) -> None:
        """SIGKILL the training service (then reap it, as a supervisor would)."""
        assert self.training is not None
        os.kill(self.training.ref.pid, signal.SIGKILL)
        stop_services(self.stack, [self.training])

    def forkservers(self) -> list[psutil.Process]:
        """The service's multiprocessing forkserver (the training processes' parent)."""
        assert self.training is not None
        children = psutil.Process(self.training.ref.pid).children()
        return [c for c in children if "forkserver" in " ".join(_cmdline(c))]

    def fitting(self) -> list[psutil.Process]:
        """The training processes of the service: forked by its forkserver."""
        return [p for server in self.forkservers() for p in server.children()]

    def stop(self) -> None:
        alive = [p for p in (self.training, self.registry) if p and is_alive(p.ref)]
        stop_services(self.stack, alive)
        for orphan in self.orphans:  # only if die-with-parent failed; they are ours
            with contextlib.suppress(psutil.Error):
                orphan.kill()


def _gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


@pytest.fixture(scope="module")
def local_stack_control(
    local_stack_control: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    """This module's own stack (see ``tests.own_stack``): it SIGKILLs a training process,
    whose consumer group members would otherwise stay behind on the session stack."""
    with stack_of_its_own(tmp_path_factory.mktemp("training-crash") / "stack") as stack:
        yield stack


@pytest.fixture(scope="module")
def local_stack(local_stack_control: LocalStack) -> StackInfo:
    """Connection settings of this module's own stack."""
    return local_stack_control.info()


@pytest.fixture(scope="module")
def services(local_stack_control: LocalStack) -> Iterator[_Services]:
    running = _Services(local_stack_control)
    try:
        running.start_registry()
        running.start_training()
        yield running
    finally:
        running.stop()


def _spec_event(model: str, dataset: str, trainer: dict) -> ModelSpecApplied:
    spec = ModelSpec(
        model=model, dataset=dataset, target="target", task="classification", trainer=trainer
    )
    return ModelSpecApplied(
        model=model,
        dataset=dataset,
        task="classification",
        target="target",
        trainer="test",
        spec_hash=spec_hash(spec),
        spec=spec.model_dump(mode="json"),
    )


async def _train(stack: StackInfo, model: str, trainer: dict) -> DatasetRef:
    """Publish the model's spec and an accepted dataset version for it."""
    ref = await asyncio.to_thread(put_frame, stack, f"data-{model}", cancer_frame())
    validated = example(DataValidated).model_copy(update={"dataset": ref, "models": [model]})
    for event in (_spec_event(model, ref.name, trainer), validated):
        await publish_signed(stack, event, source="cli/test", actor="user:t")
    return ref


def _about(model: str) -> Callable[[ConsumerRecord], bool]:
    return lambda record: header(record, "ce_subject") == model


async def _events(
    stack: StackInfo, topic: str, model: str, count: int = 1, timeout_s: float = 90
) -> list:
    records = await read_topic(
        stack.kafka_bootstrap, topic, _about(model), count=count, timeout_s=timeout_s
    )
    return [decode(r.headers, r.value)[1] for r in records]


async def _job_row(stack: StackInfo, model: str) -> asyncpg.Record:
    connection = await asyncpg.connect(stack.asyncpg_dsn)
    try:
        return await connection.fetchrow(
            "SELECT j.status, j.attempt, j.run_id,"
            " (SELECT count(*) FROM driftline_training.runs r WHERE r.model = j.model) AS runs"
            " FROM driftline_training.jobs j WHERE j.model = $1",
            model,
        )
    finally:
        await connection.close()


def _wait_for(probe: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := probe()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)
    return found


def _versions(services: _Services, model: str) -> list[dict]:
    assert services.registry is not None
    answer = httpx.get(f"{services.registry.url}/v1/models/{model}/versions", timeout=10)
    return answer.json() if answer.status_code == 200 else []


async def test_kill_9_mid_fit_then_restart_trains_exactly_once(
    local_stack: StackInfo, services: _Services
) -> None:
    trainer = {"function": "slow_logistic", "params": {"sleep_s": 6}}
    ref = await _train(local_stack, CRASH_MODEL, trainer)
    (started,) = await _events(local_stack, topics.TRAINING_STARTED, CRASH_MODEL)
    assert isinstance(started, TrainingStarted)
    assert started.attempt == 1

    fitting = await asyncio.to_thread(_wait_for, services.fitting, 30, "the training process")
    fitting += services.forkservers()
    services.orphans = fitting
    await asyncio.sleep(1.5)  # the data is read and the fit sleeps: the kill lands mid-fit
    row = await _job_row(local_stack, CRASH_MODEL)
    assert (row["status"], row["attempt"], row["runs"]) == ("running", 1, 0)
    await asyncio.to_thread(services.kill_training)
    killed_at = time.monotonic()
    await asyncio.to_thread(
        _wait_for, lambda: all(_gone(p) for p in fitting), 10, "the orphaned fit to die"
    )
    trained_topic = topics.MODEL_TRAINED
    assert not await read_all(local_stack.kafka_bootstrap, trained_topic, _about(CRASH_MODEL))

    await asyncio.to_thread(services.start_training)
    _, resumed = await _events(local_stack, topics.TRAINING_STARTED, CRASH_MODEL, count=2)
    assert (resumed.run_id, resumed.attempt) == (started.run_id, 2)
    (trained,) = await _events(local_stack, trained_topic, CRASH_MODEL, timeout_s=120)
    assert isinstance(trained, ModelTrained)
    assert (trained.run_id, trained.dataset.sha256) == (started.run_id, ref.sha256)
    assert trained.metrics["accuracy"] > 0.9
    recovered_s = time.monotonic() - killed_at
    assert recovered_s < 90 < LEASE_S, recovered_s

    versions = await asyncio.to_thread(
        _wait_for, lambda: _versions(services, CRASH_MODEL), 60, "the registered version"
    )
    await asyncio.sleep(3)  # time for a duplicate, if anything were to produce one
    produced = await read_all(local_stack.kafka_bootstrap, trained_topic, _about(CRASH_MODEL))
    assert len(produced) == 1
    versions = await asyncio.to_thread(_versions, services, CRASH_MODEL)
    assert [(v["version"], v["run_id"]) for v in versions] == [(1, started.run_id)]
    row = await _job_row(local_stack, CRASH_MODEL)
    assert (row["status"], row["attempt"], row["run_id"], row["runs"]) == (
        "succeeded",
        2,
        started.run_id,
        1,
    )


def _reproduce(services: _Services, target: str) -> tuple[int, str]:
    assert services.registry is not None
    args = ["reproduce", target, "--url", services.training_url]
    args += ["--registry-url", services.registry.url, "--json", "--timeout", "120"]
    tokens = services.stack.info().auth_tokens_file
    assert tokens is not None
    args += ["--token", role_tokens(tokens)["publisher"]]  # this stack's, not ./.driftline's
    result = run_cli(*args)
    return result.returncode, result.stdout


async def test_reproduce_gives_identical_metrics_and_refuses_changed_data(
    local_stack: StackInfo, services: _Services
) -> None:
    trainer = {
        "estimator": "sklearn.ensemble.RandomForestClassifier",
        "params": {"n_estimators": 30},
    }
    ref = await _train(local_stack, REPRO_MODEL, trainer)
    (trained,) = await _events(local_stack, topics.MODEL_TRAINED, REPRO_MODEL)
    await asyncio.to_thread(
        _wait_for, lambda: _versions(services, REPRO_MODEL), 60, "the registered version"
    )

    code, output = await asyncio.to_thread(_reproduce, services, f"{REPRO_MODEL}@1")
    assert code == 0, output
    result = json.loads(output)
    assert (result["run_id"], result["match"]) == (trained.run_id, True)
    assert {c["name"]: c["reproduced"] for c in result["metrics"]} == trained.metrics
    assert result["dataset"]["sha256"] == ref.sha256

    code, output = await asyncio.to_thread(_reproduce, services, f"{REPRO_MODEL}@2")
    assert code == 2, output
    changed = bytearray(cancer_frame().to_csv(index=False).encode())
    changed[-2] = ord("0") if changed[-2] != ord("0") else ord("1")  # one byte of the last row
    await asyncio.to_thread(put_csv, local_stack, ref.name, bytes(changed))
    code, output = await asyncio.to_thread(_reproduce, services, f"{REPRO_MODEL}@1")
    assert code == 2, output
    assert "dataset_changed" in output
    assert "sha256 mismatch" in output
    produced = await read_all(
        local_stack.kafka_bootstrap, topics.MODEL_TRAINED, _about(REPRO_MODEL)
    )
    assert len(produced) == 1  # reproducing trains no new model


def _served(stack: StackInfo, count: int) -> list[PredictionsLogged | GroundTruthReceived]:
    """``count`` champion predictions of DRIFT_MODEL, the first half inline as the PostgreSQL
    log sends them, the second half in a Parquet object of the Kafka prediction log (written
    by deployment's compaction code), and the true labels of all of them."""
    frame = load_breast_cancer(as_frame=True).frame.sample(count, random_state=3)
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    now = datetime.now(UTC)
    features = frame.drop(columns="target").astype(float).to_dict(orient="records")
    ids = [f"req-{UID}-{i}" for i in range(count)]
    targets = [int(t) for t in frame["target"]]
    half = count // 2
    rows = [
        PredictionRow(request_id=rid, time=now, variant="champion", features=f, prediction=t,
                      latency_ms=1.0)
        for rid, f, t in zip(ids[:half], features[:half], targets[:half], strict=True)
    ]  # fmt: skip
    window = TimeWindow(start=now - timedelta(minutes=1), end=now)
    inline = PredictionsLogged(
        model=ModelRef(name=DRIFT_MODEL, version=1),
        batch_id=f"batch-{UID}",
        window=window,
        count=half,
        rows=rows,
    )
    logged = VersionRows(
        model=DRIFT_MODEL, version=1, request_id=ids[half:], time=[now] * (count - half),
        variant=["champion"] * (count - half), prediction=targets[half:],
        score=[0.9] * (count - half), latency_ms=[1.0] * (count - half),
        features=feature_columns(features[half:]), flags=[None] * (count - half),
    )  # fmt: skip
    data = parquet_bytes(version_table(logged))
    key = f"prediction-log/model={DRIFT_MODEL}/version=1/p0-0-{count - half - 1}.parquet"
    stack_minio(stack).put_object(stack.bucket, key, io.BytesIO(data), len(data))
    source = ArtifactRef(
        uri=f"s3://{stack.bucket}/{key}",
        sha256=hashlib.sha256(data).hexdigest(),
        media_type="application/vnd.apache.parquet",
        size_bytes=len(data),
    )
    by_reference = PredictionsLogged(
        model=ModelRef(name=DRIFT_MODEL, version=1), batch_id=f"log-{UID}", window=window,
        count=count - half, batch=source, log_offsets=f"0:0-{count - half - 1}",
    )  # fmt: skip
    labels = dict(zip(ids, targets, strict=True))
    # Labels of requests never served: kept, never joined; 36,000 bind parameters, so chunked.
    labels |= {f"unserved-{UID}-{i}": 1 for i in range(9000)}
    truth = GroundTruthReceived(model=DRIFT_MODEL, labels=labels, received_at=now)
    return [inline, by_reference, truth]


async def _kept_features(stack: StackInfo) -> list[bool]:
    """Per kept prediction of DRIFT_MODEL: whether training holds its features itself."""
    connection = await asyncpg.connect(stack.asyncpg_dsn)
    try:
        rows = await connection.fetch(
            "SELECT features IS NOT NULL AS copied FROM driftline_training.production_predictions"
            " WHERE model = $1 ORDER BY request_id",
            DRIFT_MODEL,
        )
    finally:
        await connection.close()
    return [row["copied"] for row in rows]


async def _labelled_count(stack: StackInfo) -> int:
    connection = await asyncpg.connect(stack.asyncpg_dsn)
    try:
        return await connection.fetchval(
            "SELECT count(*) FROM driftline_training.production_labels l"
            " JOIN driftline_training.production_predictions p USING (model, request_id)"
            " WHERE l.model = $1",
            DRIFT_MODEL,
        )
    finally:
        await connection.close()


async def test_drift_retrains_with_labelled_production_data(
    local_stack: StackInfo, services: _Services
) -> None:
    trainer = {"estimator": "sklearn.linear_model.LogisticRegression", "params": {"max_iter": 300}}
    ref = await _train(local_stack, DRIFT_MODEL, trainer)
    (first,) = await _events(local_stack, topics.MODEL_TRAINED, DRIFT_MODEL)
    drift = example(DriftDetected).model_copy(
        update={"model": ModelRef(name=DRIFT_MODEL, version=1)}
    )
    send = functools.partial(publish_signed, local_stack, source="cli/test", actor="user:t")
    await send(drift)  # nothing new yet: skipped
    (skipped,) = await _events(local_stack, topics.RETRAIN_SKIPPED, DRIFT_MODEL)
    assert skipped.reason.code == "no_new_data"

    # Labels trail the drift: the skipped drift stays pending and is answered as soon as
    # labelled production rows exist — no second DriftDetected needed.
    for event in _served(local_stack, 40):
        await send(event)
    _, started = await _events(local_stack, topics.TRAINING_STARTED, DRIFT_MODEL, count=2)
    assert started.trigger == "drift_detected"
    assert await _labelled_count(local_stack) == 40
    assert sorted(await _kept_features(local_stack)) == [False] * 20 + [True] * 20
    assert started.dataset.sha256 == ref.sha256  # same accepted version, new labels
    _, second = await _events(local_stack, topics.MODEL_TRAINED, DRIFT_MODEL, count=2)
    assert second.run_id == started.run_id != first.run_id
    assert second.train_rows + second.holdout_rows == first.train_rows + first.holdout_rows + 40
    async with httpx.AsyncClient(base_url=services.training_url, timeout=10) as client:
        run = (await client.get(f"/v1/runs/{second.run_id}")).json()
    assert run["lineage"]["labelled_rows"] == 40
    csv = run["artifacts"]["labelled_rows.csv"]
    added = pd.read_csv(io.BytesIO(stack_minio(local_stack).get_object(
        local_stack.bucket, csv["uri"].split("/", 3)[3]).read()))  # fmt: skip
    served = load_breast_cancer(as_frame=True).frame.sample(40, random_state=3)
    served.columns = [c.replace(" ", "_") for c in served.columns]
    assert len(added) == 40  # the features read back from the log object are the served ones
    pd.testing.assert_frame_equal(
        added.sort_values(list(added.columns)).reset_index(drop=True),
        served[added.columns].sort_values(list(added.columns)).reset_index(drop=True),
        check_dtype=False,
    )

    await send(drift.model_copy(update={"drift_id": f"drift-{UID}-3"}))
    _, again = await _events(local_stack, topics.RETRAIN_SKIPPED, DRIFT_MODEL, count=2)
    assert "no production labels arrived since" in again.reason.message
