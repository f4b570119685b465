"""``driftline serve deployment --workers 2`` against one worker, on a model whose predict
dominates (issue #16's aim: ≥ 1.6x one worker's throughput on 2 cores).

One run: a ``HistGradientBoostingClassifier`` (200 trees, fit on generated data) served by
Driftline with 1 and 2 workers, prediction log on and off, and by the bare Starlette floor
under ``uvicorn --workers`` 1 and 2 (what the hardware allows), with 1- and 100-row requests.
``wrk`` drives each case in turn, rounds interleaved; every party's CPU per request is
measured (the server's process tree, PostgreSQL, the broker, wrk itself) so the table shows
where the two cores went.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import resource
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import psutil
import skops.io as sio
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from bench import predict_workers_servers as servers
from bench.predict import cpu_seconds
from bench.predict_load import run_load
from bench.predict_workers_table import (
    Case,
    Idle,
    Sample,
    busy_share,
    idle_line,
    load_table,
    predict_share,
    ratio_table,
    verdict_table,
)
from bench.tables import measure

SIZES = (1, 100)
CONNECTIONS, MORE_CONNECTIONS = 16, 32
ROWS, FEATURES, TREES = 20_000, 30, 200
SETTLE_LOG_S = 6.0


def fitted() -> tuple[Any, list[dict[str, float]]]:
    """The model (fitted on named columns, one OpenMP thread) and 100 unseen rows to send."""
    matrix, target = make_classification(
        n_samples=ROWS + 100, n_features=FEATURES, n_informative=15, random_state=0
    )
    frame = pd.DataFrame(matrix, columns=[f"f{i:02d}" for i in range(FEATURES)])
    model = HistGradientBoostingClassifier(max_iter=TREES, early_stopping=False, random_state=0)
    with threadpool_limits(1):
        model.fit(frame.iloc[:ROWS], target[:ROWS])
    return model, frame.iloc[ROWS:].to_dict(orient="records")


def in_process(model: Any, rows: list[dict[str, float]], quick: bool) -> dict[int, float]:
    """Seconds per ``predict`` + ``predict_proba`` on a NumPy array, one OpenMP thread."""
    features = [str(f) for f in model.feature_names_in_]
    bare = copy.deepcopy(model)
    del bare.feature_names_in_  # scored as an array, as deployment and the floor do
    found = {}
    with threadpool_limits(1):
        for size in SIZES:
            data = pd.DataFrame(rows[:size], columns=features).to_numpy(dtype=float)
            found[size] = measure(
                lambda m=data: (bare.predict(m), bare.predict_proba(m)),
                repeat=2 if quick else 5,
                min_time_s=0.05 if quick else 0.3,
            )
    return found


def wrk_cpu() -> float:
    """CPU seconds of this process's finished children (wrk runs are the only ones)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def idle_background(parties: Mapping[str, Sequence[psutil.Process]], seconds: float) -> Idle:
    """Cores each party and the whole machine use with every server up and no load."""
    before = {name: sum(map(cpu_seconds, procs)) for name, procs in parties.items()}
    machine, start = psutil.cpu_times(), time.monotonic()
    time.sleep(seconds)
    wall, busy = time.monotonic() - start, busy_share(machine, psutil.cpu_times())
    used = {n: (sum(map(cpu_seconds, ps)) - before[n]) / wall for n, ps in parties.items()}
    return Idle(busy, used)


def one_run(
    target: servers.Served, body: bytes, connections: int, seconds: float,
    others: servers.Others, settle_s: float,
) -> Sample:  # fmt: skip
    """One wrk run and the CPU per request of every party over the run and its settling."""
    parties = [target.process, others.database, *others.broker]
    before = [cpu_seconds(p) for p in parties]
    wrk_before, machine = wrk_cpu(), psutil.cpu_times()
    load = run_load(
        target.url, body, connections=connections, seconds=seconds, headers=others.headers
    )
    busy = busy_share(machine, psutil.cpu_times())
    wrk = wrk_cpu() - wrk_before
    time.sleep(settle_s)  # the log's batches of the run are sent and counted
    spent = [(cpu_seconds(p) - b) / load.requests for p, b in zip(parties, before, strict=True)]
    return Sample(
        load, server_cpu_s=spent[0], db_cpu_s=spent[1], broker_cpu_s=sum(spent[2:]),
        wrk_cpu_s=wrk / load.requests, busy=busy,
    )  # fmt: skip


def measure_cases(
    targets: Mapping[Case, servers.Served], bodies: Mapping[int, bytes],
    others: servers.Others, rounds: int, seconds: float, settle: Callable[[Case], float],
) -> dict[Case, dict[int, list[Sample]]]:  # fmt: skip
    """Every case and size once per round, cases interleaved; samples per round."""
    found: dict[Case, dict[int, list[Sample]]] = {c: {n: [] for n in SIZES} for c in targets}
    for case, target in targets.items():  # warm-up: every worker's caches and lazy imports
        run_load(target.url, bodies[100], connections=case.connections, seconds=2,
                 headers=others.headers)  # fmt: skip
        time.sleep(settle(case))
    for _ in range(rounds):
        for case, target in targets.items():
            for size in SIZES:
                sample = one_run(
                    target, bodies[size], case.connections, seconds, others, settle(case)
                )
                found[case][size].append(sample)
    return found


def cases_of(label: str, served: Mapping[int, servers.Served]) -> dict[Case, servers.Served]:
    """One worker at 16 connections, two workers at 16 and 32."""
    return {
        Case(label, 1, CONNECTIONS): served[1],
        Case(label, 2, CONNECTIONS): served[2],
        Case(label, 2, MORE_CONNECTIONS): served[2],
    }


def run_all(
    model: Any, rows: list[dict[str, float]], rounds: int, seconds: float
) -> tuple[dict[Case, dict[int, list[Sample]]], Idle]:
    """Start every server, measure the idle background, then every case."""
    bodies = {n: json.dumps({"instances": rows[:n]}).encode() for n in SIZES}
    with tempfile.TemporaryDirectory(prefix="workers-bench-") as tmp, contextlib.ExitStack() as on:
        folder = Path(tmp)
        joblib.dump(model, folder / "model.joblib")
        floors = {n: on.enter_context(servers.floor(folder, folder / "model.joblib", n))
                  for n in (1, 2)}  # fmt: skip
        deployed, others = on.enter_context(servers.driftline(folder, sio.dumps(model)))
        targets = cases_of(servers.FLOOR, floors)
        for label in (servers.DRIFTLINE_LOG, servers.DRIFTLINE_NOLOG):
            targets |= cases_of(label, {n: deployed[label, n] for n in (1, 2)})

        def settle(case: Case) -> float:
            return SETTLE_LOG_S if case.server == servers.DRIFTLINE_LOG else 0.5

        idle = idle_background(
            {
                "Kafka broker and its S3 store": others.broker,
                "PostgreSQL": (others.database,),
                "the 4 Driftline servers": [s.process for s in deployed.values()],
                "the 2 floors": [s.process for s in floors.values()],
            },
            seconds=5.0,
        )
        return measure_cases(targets, bodies, others, rounds, seconds, settle), idle


def report(quick: bool) -> list[str]:
    """Markdown of the suite: method, one table per batch size, ratios, the verdict."""
    model, rows = fitted()
    rounds, seconds = (1, 2.0) if quick else (3, 6.0)
    predict_s = in_process(model, rows, quick)
    found, idle = run_all(model, rows, rounds, seconds)
    cores = os.cpu_count() or 1
    one = Case(servers.DRIFTLINE_NOLOG, 1, CONNECTIONS)
    shares = {n: predict_share(found, one, n, predict_s[n]) for n in SIZES}
    smoke = "_Smoke run (`--quick`): one short round, not a measurement._ " if quick else ""
    lines = [
        f"{smoke}`wrk` (one thread, closed loop, {seconds:.0f} s per run) in its own process; "
        f"{rounds} round(s), cases interleaved, medians over rounds. Model: scikit-learn "
        f"HistGradientBoostingClassifier, {TREES} trees fitted on a generated "
        f"`make_classification` frame ({ROWS:,} rows x {FEATURES} features); every server "
        "computes predict and predict_proba. Each process (every worker) runs with one "
        "BLAS/OpenMP thread (`OMP_NUM_THREADS=1` etc.): HistGradientBoosting predicts with "
        "OpenMP, and unpinned each worker would spread over both cores and the workers would "
        "contend, so one worker could not be compared with two. Driftline: `driftline serve "
        "deployment` with `DRIFTLINE_SERVE_WORKERS` 1 or 2 on the local stack, model approved "
        "via Kafka, routing on; `log on` = the default PostgreSQL prediction log (group commit, "
        "waiting for the WAL flush), `log off` = `DRIFTLINE_DEPLOYMENT__LOG_PREDICTIONS=false`. "
        "Floor: `bench/predict_floor.py` (Starlette, orjson) under `uvicorn --workers` 1 or 2. "
        f"One worker is driven with {CONNECTIONS} connections, two workers with {CONNECTIONS} "
        f"and {MORE_CONNECTIONS}; the ratio takes the two-worker case's best. Server CPU is "
        "the serving process tree (master and all workers) over the run and its settling "
        f"({SETTLE_LOG_S:.0f} s with the log on: its batches of the run, flushed every 5 s, "
        "are sent and counted); PostgreSQL, broker "
        "(tansu and its S3 store) and wrk CPU over the same span; machine busy = share of all "
        "cores not idle during the run (every process on the machine, including other work); "
        "CPU-bound ceiling = cores / (server + PostgreSQL + broker + wrk CPU per request).",
        "",
        f"In-process predict + predict_proba, one thread: 1 row {predict_s[1] * 1e3:.2f} ms, "
        f"100 rows {predict_s[100] * 1e3:.2f} ms per call; that is "
        f"{shares[1]:.0%} (1 row) and {shares[100]:.0%} (100 rows) of one Driftline worker's "
        "CPU per request with the log off.",
        "",
        idle_line(idle, cores),
        "",
    ]
    for size in SIZES:
        lines += load_table(found, size, cores)
    lines += ratio_table(found, SIZES, CONNECTIONS, cores)
    judged = (servers.DRIFTLINE_LOG, servers.DRIFTLINE_NOLOG)
    return [*lines, *verdict_table(found, judged, servers.FLOOR, (100, 1))]
