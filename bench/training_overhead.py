"""Overhead around a scikit-learn fit: Driftline's training service vs MLflow tracking.

Driftline, per round: a ``DataValidated`` record → the training service's ``EventProcessor``
(job row) → its worker's ``run_once`` (claim, ``TrainingStarted``, S3 download with sha256
check, fit and holdout metrics in a fresh training process, skops + documents to S3, run
record, ``ModelTrained``) → the outbox relay publishes both events to Kafka. MLflow, per
round in a warm client process: read the file, split, ``start_run``, log params, fit, log the
same metrics, ``mlflow.sklearn.log_model`` to the tracking server (artifacts proxied).
Overhead = total minus the bare ``LogisticRegression.fit`` on the same training split, timed
next to each round. Every round gets a freshly shuffled copy of the data (new sha256), or
Driftline would rightly refuse to train the same (model, data, spec) twice.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench import driftline_side, mlflow_peer
from bench.tables import overhead_table
from driftline.runtime.consumer import Outcome
from driftline.training.app import definition
from driftline.training.pool import TrainingPool
from driftline.training.runner import RunOutput
from driftline.training.settings import TrainingSettings, training_section
from driftline.training.trainer import checked_target, feature_columns, split
from driftline.training.worker import TrainingWorker
from driftline_contracts.events.data import DataValidated
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.examples import example
from driftline_contracts.modelspec import ModelSpec, spec_hash
from driftline_contracts.values import DatasetRef

TARGET = "target"
# One BLAS/OpenMP thread in every process that fits (the bench, Driftline's training process,
# MLflow's client): on a loaded 2-core machine, spinning BLAS threads otherwise make the same
# fit cost 0.15 s in one process and 1.7 s in the next, which would swamp the overhead.
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
DRIFTLINE = "Driftline (DataValidated in → ModelTrained on Kafka)"
MLFLOW = "MLflow (tracked run + log_model, warm client)"


@dataclass(frozen=True)
class Dataset:
    """One benchmark dataset: a name, a frame and the estimator parameters."""

    name: str
    frame: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)


def breast_cancer() -> pd.DataFrame:
    """scikit-learn's breast cancer data (569 x 30), columns made identifier-safe."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    return frame


def synthetic(rows: int, columns: int = 20, seed: int = 0) -> pd.DataFrame:
    """A binary classification frame of ``rows`` x ``columns`` float features."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=rows, n_features=columns, n_informative=columns // 2, random_state=seed
    )
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(columns)])
    frame[TARGET] = y
    return frame


def datasets(quick: bool) -> list[Dataset]:
    """Small and medium data (the medium one shrinks for a smoke run)."""
    rows = 10_000 if quick else 100_000
    return [
        Dataset("breast-cancer", breast_cancer(), {"max_iter": 5000}),
        Dataset(f"synthetic-{rows // 1000}k", synthetic(rows), {"max_iter": 1000}),
    ]


def spec_for(data: Dataset) -> ModelSpec:
    """The model spec Driftline trains from (default split: 20% holdout, seed 42)."""
    return ModelSpec.model_validate({
        "model": f"bench-{data.name}", "dataset": f"bench-{data.name}", "target": TARGET,
        "task": "classification",
        "trainer": {"estimator": "sklearn.linear_model.LogisticRegression",
                    "params": data.params},
    })  # fmt: skip


def shuffled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The same rows in another order: same fit cost, different bytes."""
    order = np.random.default_rng(seed).permutation(len(frame))
    return frame.iloc[order].reset_index(drop=True)


def bare_fit_seconds(frame: pd.DataFrame, spec: ModelSpec, times: int = 3) -> float:
    """Median seconds of ``LogisticRegression(**params).fit`` on Driftline's training split."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    labelled = checked_target(frame, spec)
    train, _ = split(labelled, spec)
    features = feature_columns(labelled, spec)
    found = []
    with threadpool_limits(1):
        for _ in range(times):
            estimator = LogisticRegression(**spec.trainer.params, random_state=spec.split.seed)
            started = time.perf_counter()
            estimator.fit(train[features], train[TARGET])
            found.append(time.perf_counter() - started)
    return statistics.median(found)


class TimedPool(TrainingPool):
    """The training pool, noting each run's wall time and the run's own duration."""

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers)
        self.runs: list[tuple[float, float, Any]] = []

    async def train(self, *args: Any, **kwargs: Any) -> RunOutput:
        """Train as usual; remember seconds in the pool, seconds inside, the failure if any."""
        started = time.perf_counter()
        output = await super().train(*args, **kwargs)
        self.runs.append((time.perf_counter() - started, output.duration_s, output.failure))
        return output


async def driftline_rounds(
    stack: driftline_side.Stack, data: Dataset, files: list[Path]
) -> dict[str, list[float]]:
    """Driftline's total and bare-fit seconds per round, plus the training process start."""
    spec = spec_for(data)
    settings = driftline_side.settings_for(stack.info, TrainingSettings)
    series: dict[str, list[float]] = {"total": [], "fit": [], "process_start": []}
    async with driftline_side.in_process(definition(), settings, publish=True) as runtime:
        pool = TimedPool(1)
        worker = TrainingWorker(
            units=runtime.units, store=runtime.store, pool=pool, worker="bench",
            settings=training_section(runtime.section),
        )  # fmt: skip
        applied = example(ModelSpecApplied).model_copy(update={
            "model": spec.model, "dataset": spec.dataset, "target": TARGET,
            "spec_hash": spec_hash(spec), "spec": spec.model_dump(mode="json"),
        })  # fmt: skip
        spec_processor = driftline_side.processor(runtime, ModelSpecApplied)
        signed = driftline_side.raw_record(applied, 0, home=stack.info.home)
        assert await spec_processor.process(signed) is Outcome.HANDLED
        validated = driftline_side.processor(runtime, DataValidated)
        for number, path in enumerate(files, start=1):
            stored = await runtime.store.put_file(f"bench/{spec.dataset}/{path.name}", path)
            ref = DatasetRef(
                name=spec.dataset, version=number, uri=stored.uri, sha256=stored.sha256,
                format="parquet", rows=len(data.frame), size_bytes=stored.size_bytes,
            )  # fmt: skip
            event = example(DataValidated).model_copy(
                update={"dataset": ref, "models": [spec.model], "baseline_version": None}
            )
            record = driftline_side.raw_record(event, number, home=stack.info.home)  # validation's
            started = time.perf_counter()
            assert await validated.process(record) is Outcome.HANDLED
            assert await worker.run_once(), "the DataValidated event queued no job"
            published = await driftline_side.publish_outbox(runtime)
            series["total"].append(time.perf_counter() - started)
            in_pool, in_process, failure = pool.runs[-1]
            assert failure is None, f"training failed: {failure}"
            assert published >= 2, "TrainingStarted and ModelTrained were not both published"
            series["fit"].append(bare_fit_seconds(pd.read_parquet(path), spec))
            series["process_start"].append(in_pool - in_process)
    return series


def mlflow_rounds(tracking_uri: str, data: Dataset, files: list[Path]) -> dict[str, list[float]]:
    """MLflow's total and bare-fit seconds per round (its client script in the MLflow venv)."""
    spec = spec_for(data)
    job = {
        "files": [str(p) for p in files], "target": TARGET, "params": data.params,
        "holdout": spec.split.holdout, "seed": spec.split.seed, "experiment": spec.model,
    }  # fmt: skip
    script = Path(__file__).with_name("mlflow_fit.py")
    found = mlflow_peer.run_script(script, tracking_uri, json.dumps(job), env=SINGLE_THREAD)
    return {key: [r[key] for r in found["rounds"]] for key in ("total", "fit")}


def with_overhead(series: dict[str, list[float]]) -> dict[str, list[float]]:
    """The series plus ``overhead`` = total - bare fit, round by round."""
    overhead = [t - f for t, f in zip(series["total"], series["fit"], strict=True)]
    return {**series, "overhead": overhead}


def measure_all(quick: bool, folder: Path, mlflow_url: str) -> dict[str, Any]:
    """Both sides on every dataset; Driftline first, then MLflow, dataset by dataset."""
    rounds = 1 if quick else 5
    found: dict[str, Any] = {"rounds": rounds, "tables": {}}
    with driftline_side.local_stack() as stack:
        for data in datasets(quick):
            files = []
            for r in range(rounds):
                path = folder / f"{data.name}-{r}.parquet"
                shuffled(data.frame, seed=r).to_parquet(path, index=False)
                files.append(path)
            with (
                driftline_side.service_logging(folder / "driftline.log"),
                driftline_side.environment(SINGLE_THREAD),  # the training processes inherit it
            ):
                driftline = asyncio.run(driftline_rounds(stack, data, files))
            mlflow = mlflow_rounds(mlflow_url, data, files)
            found["tables"][data.name] = (data, driftline, mlflow)
    return found


def comparison(name: str, driftline: dict[str, list[float]], mlflow: dict[str, list[float]]) -> str:
    """One sentence: whose median overhead is smaller on ``name``, and by how much."""
    ours = statistics.median(driftline["overhead"])
    theirs = statistics.median(mlflow["overhead"])
    if ours <= theirs:
        return (
            f"On {name}, Driftline's overhead ({ours:.2f} s) is {theirs / ours:.1f}x smaller "
            f"than MLflow's ({theirs:.2f} s)."
        )
    return (
        f"On {name}, Driftline's overhead ({ours:.2f} s) is {ours / theirs:.1f}x MLflow's "
        f"({theirs:.2f} s)."
    )


def report(quick: bool) -> list[str]:
    """Markdown of the suite: method, one table per dataset, the training process start."""
    mlflow_peer.ensure_venv()
    with (
        tempfile.TemporaryDirectory(prefix="training-bench-") as folder,
        mlflow_peer.mlflow_server(Path(folder) / "mlflow") as server,
    ):
        found = measure_all(quick, Path(folder), server.url)
    lines = [
        f"{found['rounds']} rounds per side and dataset; medians, with the range of the "
        f"overhead over the rounds. MLflow {mlflow_peer.mlflow_version()} server as in the "
        "registry benchmark; scikit-learn, pandas and the estimator are the same on both sides. "
        "Bare fit: median of three fits next to each round. Every process that fits runs with "
        "one BLAS/OpenMP thread, so the same fit costs the same in each.",
        "",
    ]
    starts: list[str] = []
    for name, (data, driftline, mlflow) in found["tables"].items():
        rows, columns = data.frame.shape
        heading = (
            f"### training: overhead around LogisticRegression.fit on {name} "
            f"({rows:,} rows x {columns - 1} features)"
        )
        lines += overhead_table(
            heading, {DRIFTLINE: with_overhead(driftline), MLFLOW: with_overhead(mlflow)}
        )
        start = statistics.median(driftline["process_start"])
        starts.append(f"{name}: {start:.2f} s")
        lines += [comparison(name, with_overhead(driftline), with_overhead(mlflow)), ""]
    lines += [
        "Of Driftline's overhead, starting the fresh training process (forked from a "
        "forkserver that imported the training code once) and handing the result back takes "
        f"(median) {', '.join(starts)}; the process is fresh per run by design, so a crash, a "
        "timeout or a leak cannot touch the service. Before the forkserver (each process "
        "spawned, importing pandas and scikit-learn again) this was 2.4-2.6 s and the "
        "overhead 3.0 s on both datasets.",
        "",
    ]
    return lines
