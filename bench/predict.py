"""``/predict`` throughput and latency: Driftline's deployment service vs floors and MLServer.

One run, one model (``LogisticRegression`` on the 30 breast-cancer features), one load
generator (``wrk``, a separate process, fixed connections, closed loop), bodies of 1 and 100
rows. Measured side by side, rounds interleaved so every server sees the same machine load:

- floors: ``predict`` + ``predict_proba`` in-process (no HTTP), and a minimal Starlette
  endpoint doing the same (``bench/predict_floor.py``) under the same uvicorn as Driftline
  (uvloop event loop, httptools parser);
- MLServer with its scikit-learn runtime: default, tuned and adaptive-batching settings
  (``predict_mlserver``);
- Driftline: ``driftline serve deployment`` processes on the local stack (PostgreSQL, Kafka,
  S3), the model approved through Kafka as in production, routing on; one process with the
  prediction log on (the default), one with the log's commits not waiting for the WAL flush
  (``LOG_SYNCHRONOUS_COMMIT=false``), one with ``LOG_PREDICTIONS=false``, one with the Kafka
  log, and one (log on) serving a second model whose spec turns micro-batching on
  (``bench/predict_batching.py``).

Server CPU per request is the serving process's (with its children); for Driftline the
PostgreSQL server's CPU per request is reported beside it (the log's writes), since it
competes for the same cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import joblib
import numpy as np
import psutil
import skops.io as sio
import uvloop
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

from bench import predict_budget, predict_floor, predict_mlserver, predict_onnx
from bench.driftline_side import publish_signed, publisher_headers, settings_for
from bench.predict_aims import aims_table
from bench.predict_batching import AIM as BATCHING_AIM
from bench.predict_batching import BATCHED_MODEL, DRIFTLINE_BATCHED, apply_batching, batching_aim
from bench.predict_load import Load, run_load
from bench.tables import measure
from driftline.runtime.storage import build_artifact_store
from driftline.stack import LocalStack, StackInfo
from driftline.stack.procs import free_port, spawn, stop
from driftline.stack.services import start_services, stop_services, wait_until_ready
from driftline.stack.state import load_state
from driftline_contracts.events.registry import ModelApproved
from driftline_contracts.examples import example
from driftline_contracts.values import ArtifactRef, ModelRef

MODEL = "bench-predict"
CONNECTIONS = 16
SIZES = (1, 100)
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
DRIFTLINE, DRIFTLINE_NOLOG = "Driftline (routing + prediction log)", "Driftline (log off)"
DRIFTLINE_ASYNC = "Driftline (log, LOG_SYNCHRONOUS_COMMIT=false)"
DRIFTLINE_KAFKA = "Driftline (Kafka log, LOG_SINK=kafka)"
STARLETTE = "Starlette endpoint (floor)"
MLSERVER = {
    "default": "MLServer default",
    "tuned": "MLServer tuned",
    "batching": "MLServer tuned + adaptive batching",
}
HERE = Path(__file__).resolve().parent


def fitted() -> tuple[Any, list[dict[str, float]]]:
    """The benchmark's model (fitted on named columns) and the dataset's rows."""
    frame, target = load_breast_cancer(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=5000).fit(frame, target)
    return model, frame.to_dict(orient="records")


def in_process(model: Any, rows: list[dict[str, float]], quick: bool) -> dict[str, float]:
    """Seconds per ``predict`` + ``predict_proba`` call on a NumPy array, per batch size."""
    bare = copy.deepcopy(model)
    del bare.feature_names_in_
    features = list(model.feature_names_in_)
    found = {}
    for size in SIZES:
        matrix = np.array([[r[f] for f in features] for r in rows[:size]])
        found[f"{size}"] = measure(
            lambda m=matrix: (bare.predict(m), bare.predict_proba(m)),
            repeat=2 if quick else 5,
            min_time_s=0.05 if quick else 0.3,
        )
    return found


@contextlib.contextmanager
def starlette_floor(folder: Path, model_path: Path) -> Iterator[str]:
    """The floor endpoint under uvicorn; yields its URL."""
    port = free_port()
    env = {**ONE_THREAD, "PREDICT_FLOOR_MODEL": str(model_path)}
    command = [
        sys.executable, "-m", "uvicorn", "bench.predict_floor:app", "--host", "127.0.0.1",
        "--port", str(port), "--no-access-log", "--log-level", "warning",
        "--loop", "uvloop", "--http", "httptools",
    ]  # fmt: skip
    ref = spawn(command, folder / "floor.log", env, cwd=HERE.parent)
    try:
        _wait_http(f"http://127.0.0.1:{port}/predict", json.dumps({"instances": []}).encode())
        yield f"http://127.0.0.1:{port}/predict"
    finally:
        stop(ref, grace=10.0)


def _wait_http(url: str, body: bytes, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(url, content=body, timeout=2)
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} does not answer")
        time.sleep(0.3)


async def _approve(info: StackInfo, blob: bytes, model: str = MODEL) -> None:
    store = build_artifact_store(settings_for(info).storage)
    await store.ensure_bucket()
    stored = await store.put_bytes(f"models/{model}/v1.skops", blob)
    artifact = ArtifactRef(
        uri=stored.uri, sha256=stored.sha256, media_type="application/vnd.skops",
        size_bytes=stored.size_bytes,
    )  # fmt: skip
    event = example(ModelApproved).model_copy(
        update={"model": ModelRef(name=model, version=1), "artifact": artifact}
    )
    await publish_signed(info, event, actor="user:b")  # deployment acts on the registry's word


def _wait_ready(url: str, model: str = MODEL, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while httpx.get(f"{url}/v2/models/{model}/ready", timeout=5).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{model} not ready on {url}")
        time.sleep(0.5)


@contextlib.contextmanager
def driftline(
    folder: Path, model: Any
) -> Iterator[
    tuple[dict[str, str], tuple[psutil.Process, list[psutil.Process]], dict[str, str], StackInfo]
]:
    """Five deployment processes on a fresh local stack (log on, log without waiting for the
    WAL flush, log off, the Kafka log; log on for the micro-batched model): their predict URLs,
    the stack's PostgreSQL server and brokers, the publisher's headers and the stack."""
    stack = LocalStack(folder / "stack")
    info = stack.up()
    processes = []
    try:
        env = {**ONE_THREAD, "DRIFTLINE_LOG_LEVEL": "WARNING"}
        processes += start_services(stack, info, ["deployment"], extra_env=env)
        unflushed = {**env, "DRIFTLINE_DEPLOYMENT__LOG_SYNCHRONOUS_COMMIT": "false"}
        processes += start_services(stack, info, ["deployment#2"], extra_env=unflushed)
        nolog = {**env, "DRIFTLINE_DEPLOYMENT__LOG_PREDICTIONS": "false"}
        processes += start_services(stack, info, ["deployment#3"], extra_env=nolog)
        kafka = {
            **env, "DRIFTLINE_DEPLOYMENT__LOG_SINK": "kafka",
            "DRIFTLINE_DEPLOYMENT__LOG_COMPACT_INTERVAL_S": "5",
        }  # fmt: skip
        processes += start_services(stack, info, ["deployment#4"], extra_env=kafka)
        processes += start_services(stack, info, ["deployment#5"], extra_env=env)
        wait_until_ready(processes)
        asyncio.run(apply_batching(info))  # before approval: the option is kept when it serves
        asyncio.run(_approve(info, sio.dumps(model)))
        asyncio.run(_approve(info, sio.dumps(model), BATCHED_MODEL))
        urls = [p.url for p in processes]
        for url in urls[:4]:
            _wait_ready(url)
        _wait_ready(urls[4], BATCHED_MODEL)
        predict = f"/v1/models/{MODEL}/predict"
        pids = load_state(stack.home).pids
        database = psutil.Process(pids["postgres"].pid)
        broker = [psutil.Process(pids[n].pid) for n in ("broker", "broker-log") if n in pids]
        labels = (DRIFTLINE, DRIFTLINE_ASYNC, DRIFTLINE_NOLOG, DRIFTLINE_KAFKA)
        auth = publisher_headers(info)  # the services run with auth on, as in production
        served = {label: url + predict for label, url in zip(labels, urls[:4], strict=True)}
        served[DRIFTLINE_BATCHED] = f"{urls[4]}/v1/models/{BATCHED_MODEL}/predict"
        yield served, (database, broker), auth, info
    finally:
        stop_services(stack, processes)
        stack.down()


def bodies(rows: list[dict[str, float]], features: list[str]) -> dict[str, dict[int, bytes]]:
    """Request bodies per API and batch size."""
    driftline_style = {n: json.dumps({"instances": rows[:n]}).encode() for n in SIZES}
    matrices = {n: [[r[f] for f in features] for r in rows[:n]] for n in SIZES}
    v2 = {n: predict_mlserver.infer_body(matrices[n]) for n in SIZES}
    return {"instances": driftline_style, "v2": v2}


def listening(url: str) -> psutil.Process:
    """The process that listens on ``url``'s port."""
    port = int(url.split(":")[2].split("/")[0])
    found = psutil.net_connections(kind="tcp")
    pid = next(c.pid for c in found if c.laddr and c.laddr.port == port and c.status == "LISTEN")
    return psutil.Process(pid)


def cpu_seconds(process: psutil.Process) -> float:
    """CPU time of ``process`` and its children (MLServer's inference workers), user + system."""
    total = 0.0
    for proc in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def measure_servers(
    targets: dict[str, tuple[str, dict[int, bytes]]],
    rounds: int,
    seconds: float,
    settle: Callable[[str], None],
    database: psutil.Process | None = None,
    headers: dict[str, str] | None = None,
    broker: Sequence[psutil.Process] = (),
) -> dict[str, dict[int, list[Load]]]:
    """Every target and batch size once per round, targets interleaved; loads per round.

    Each load carries the server's (and ``database``'s) CPU seconds per request, measured over
    the run and the settling after it (work a request left behind, such as the
    prediction-log batches).
    """
    found: dict[str, dict[int, list[Load]]] = {t: {n: [] for n in SIZES} for t in targets}
    servers = {name: listening(url) for name, (url, _) in targets.items()}
    for name, (url, body) in targets.items():  # warm-up: model caches, lazy imports
        run_load(url, body[1], connections=CONNECTIONS, seconds=1, headers=headers)
        settle(name)
    for _ in range(rounds):
        for name, (url, body) in targets.items():
            for size in SIZES:
                before = cpu_seconds(servers[name])
                db_before = cpu_seconds(database) if database is not None else 0.0
                broker_before = sum(map(cpu_seconds, broker))
                load = run_load(
                    url, body[size], connections=CONNECTIONS, seconds=seconds, headers=headers
                )
                settle(name)
                cpu = (cpu_seconds(servers[name]) - before) / load.requests
                db = cpu_seconds(database) - db_before if database is not None else 0.0
                kafka = sum(map(cpu_seconds, broker)) - broker_before
                found[name][size].append(
                    dataclasses.replace(
                        load, cpu_s=cpu, db_cpu_s=db / load.requests,
                        broker_cpu_s=kafka / load.requests,
                    )
                )  # fmt: skip
    return found


def table(
    found: dict[str, dict[int, list[Load]]],
    floor_s: dict[str, float],
    size: int,
    onnx_s: dict[str, dict[str, float]] | None = None,
) -> list[str]:
    """One batch size: req/s, rows/s, p50, p99 per server (medians over rounds)."""
    lines = [
        f"### predict: {size}-row JSON requests, {CONNECTIONS} connections",
        "",
        "| server | req/s (median) | req/s (range) | rows/s | p50 ms | p99 ms "
        "| server CPU µs/req | PostgreSQL CPU µs/req | broker CPU µs/req | vs Starlette |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base = statistics.median(x.rate for x in found[STARLETTE][size])
    for name, per_size in found.items():
        loads = per_size[size]
        rate = statistics.median(x.rate for x in loads)
        db = statistics.median(x.db_cpu_s for x in loads) * 1e6
        kafka = statistics.median(x.broker_cpu_s for x in loads) * 1e6
        lines.append(
            f"| {name} | {rate:,.0f} | {min(x.rate for x in loads):,.0f} to "
            f"{max(x.rate for x in loads):,.0f} | {rate * size:,.0f} "
            f"| {statistics.median(x.p50_ms for x in loads):.2f} "
            f"| {statistics.median(x.p99_ms for x in loads):.2f} "
            f"| {statistics.median(x.cpu_s for x in loads) * 1e6:,.0f} "
            f"| {f'{db:,.0f}' if name.startswith('Driftline') else ''} "
            f"| {f'{kafka:,.0f}' if name.startswith('Driftline') else ''} | {rate / base:.2f}x |"
        )
    seconds = floor_s[str(size)]
    lines += [
        f"| in-process predict + predict_proba (floor, no HTTP) | {1 / seconds:,.0f} | | "
        f"{size / seconds:,.0f} | {seconds * 1000:.3f} | | {seconds * 1e6:,.0f} | | | |",
    ]
    for name, per_size in (onnx_s or {}).items():  # bench/predict_onnx.py
        seconds = per_size[str(size)]
        lines.append(f"| {name} | {1 / seconds:,.0f} | | {size / seconds:,.0f} | "
                     f"{seconds * 1000:.3f} | | {seconds * 1e6:,.0f} | | | |")  # fmt: skip
    return [*lines, ""]


def verdicts(found: dict[str, dict[int, list[Load]]]) -> list[str]:
    """Issue 16's aims for each configuration that logs before answering, and batching's."""
    logged = (DRIFTLINE, DRIFTLINE_ASYNC, DRIFTLINE_KAFKA, DRIFTLINE_BATCHED)
    table = aims_table(found, logged, STARLETTE, list(MLSERVER.values()), MLSERVER["tuned"])
    batched, met = batching_aim(found[DRIFTLINE_BATCHED][1], found[MLSERVER["batching"]][1])
    return [
        *table,
        "",
        "| aim with micro-batching on (1-row requests) | Driftline vs MLServer adaptive "
        "batching | met |",
        "|---|---:|---|",
        f"| {BATCHING_AIM} | {batched} | {'yes' if met else '**no**'} |",
        "",
        "PostgreSQL rows written per served prediction on the hot path: 1 with the PostgreSQL "
        "log, 0 with `LOG_SINK=kafka` (asserted by "
        "`tests/integration/test_prediction_log_kafka.py`).",
        "",
    ]


def report(quick: bool) -> list[str]:
    """Markdown of the suite: method, one table per batch size, the aims."""
    model, rows = fitted()
    features = [str(f) for f in model.feature_names_in_]
    rounds, seconds = (1, 2.0) if quick else (3, 8.0)
    floor_s = in_process(model, rows, quick)
    onnx_s, onnx_check = predict_onnx.in_process_onnx(model, rows, SIZES, quick)
    body = bodies(rows, features)
    with tempfile.TemporaryDirectory(prefix="predict-bench-") as tmp:
        folder = Path(tmp)
        named, bare = folder / "named.joblib", folder / "bare.joblib"
        joblib.dump(model, named)
        array_model = copy.deepcopy(model)
        del array_model.feature_names_in_
        joblib.dump(array_model, bare)
        with contextlib.ExitStack() as servers:
            targets = {
                STARLETTE: (
                    servers.enter_context(starlette_floor(folder, named)),
                    body["instances"],
                )
            }
            for config, label in MLSERVER.items():
                url = servers.enter_context(
                    predict_mlserver.serving(folder / f"mlserver-{config}", bare, config)
                )
                targets[label] = (url, body["v2"])
            urls, (database, broker), auth, info = servers.enter_context(driftline(folder, model))
            for label, url in urls.items():
                targets[label] = (url, body["instances"])

            def settle(name: str) -> None:  # the log batcher sends what the run logged
                logged = (DRIFTLINE, DRIFTLINE_ASYNC, DRIFTLINE_KAFKA, DRIFTLINE_BATCHED)
                time.sleep(7.0 if name in logged else 0.2)

            found = measure_servers(targets, rounds, seconds, settle, database, auth, broker)
            budget = uvloop.run(
                predict_budget.measure(
                    predict_floor.build_app(str(named)), info, MODEL, body["instances"][1], auth,
                    rounds=2 if quick else 5, requests=2000 if quick else 8000,
                )
            )  # fmt: skip
    lines = [
        f"`wrk` (one thread, {CONNECTIONS} connections, closed loop, {seconds:.0f} s per run) in "
        f"its own process; {rounds} rounds, servers interleaved, medians over rounds. Model: "
        "scikit-learn LogisticRegression on 30 features; every server computes predict and "
        "predict_proba (MLServer is asked for both outputs) on the same machine, one BLAS thread "
        f"each. MLServer {predict_mlserver.version()} (uvloop, httptools): `default` = its "
        "settings as installed (inference in one parallel worker process), `tuned` = inference "
        "in the server process (`parallel_workers: 0`), debug, gzip and metrics off, `adaptive "
        "batching` = tuned plus `max_batch_size: 16`, `max_batch_time: 0.002` (concurrent "
        "requests predicted together); MLServer serves HTTP from one process. Starlette floor "
        "and Driftline run under the same uvicorn (uvloop, httptools), one process each. "
        "Driftline: `driftline serve deployment` on the local stack, model approved via Kafka, "
        "routing on, predictions logged before answering (group commit, waiting for the WAL "
        "flush) and sent as `PredictionsLogged`; `LOG_SYNCHRONOUS_COMMIT=false` = the same log "
        "answering once the rows are committed but before their WAL reaches disk (a PostgreSQL "
        "crash may lose the last fraction of a second); `log off` = "
        "`DRIFTLINE_DEPLOYMENT__LOG_PREDICTIONS=false`; `LOG_SINK=kafka` = the columnar "
        "prediction log: each request's rows one record on `driftline.prediction-log` "
        "acknowledged by the broker (acks=all) before answering, no PostgreSQL row, compacted "
        "into Parquet objects every 5 s (the compactor runs in the same process and its CPU "
        "is counted); `micro-batching on` = the default log, serving a second model (the same "
        "fitted one) whose spec sets `serving: {micro_batching: {enabled: true}}` (defaults "
        "`max_batch_rows: 64`, `max_wait_ms: 2`), applied as a `ModelSpecApplied` before its "
        "approval, so concurrent requests are predicted in one call as MLServer's adaptive "
        "batching does. Server "
        "CPU counts the settling after each run (7 s with the log, so each run's batches are "
        "sent and counted); PostgreSQL CPU is the stack's database server over the same span. "
        "The aims compare Driftline with the log on against MLServer's best configuration on "
        "each measure (highest throughput, lowest p99). Broker CPU is the local stack's Kafka "
        "broker (tansu) and the S3 server that stores its log (moto, in Python) over the same "
        "span: every acknowledged produce is an object written there, far from a Kafka "
        "cluster's append to a local segment, so the Kafka log's cost on this stack is an "
        "upper bound. ONNX Runtime rows (`bench/predict_onnx.py`): the same model exported "
        "to ONNX (`serving: {runtime: onnx}`) and run in-process as deployment runs it (CPU, "
        f"one intra-op thread); {onnx_check}; `Driftline scoring step` is deployment's "
        "`predict_columns` on a float array (outputs to JSON values included), per runtime.",
        "",
    ]
    for size in SIZES:
        lines += table(found, floor_s, size, onnx_s)
    floor_cpu_s = statistics.median(load.cpu_s for load in found[STARLETTE][1])
    return [*lines, *verdicts(found), *predict_budget.budget_lines(*budget, floor_cpu_s)]
