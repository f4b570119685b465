"""Serving: route each row to champion or canary, check features, predict, log every row."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from driftline.deployment.adapters.postgres import PostgresRolloutRepository
from driftline.deployment.core import live_percent
from driftline.deployment.errors import FeatureError, UnknownModelError
from driftline.deployment.features import float_matrix, frame_of, row_problems
from driftline.deployment.loading import LoadedModel
from driftline.deployment.mirror import Mirrored
from driftline.deployment.predictor import RowResult, predict_rows
from driftline.deployment.records import Deployment, Served
from driftline.deployment.routing import Variant, choose_variant
from driftline.deployment.schemas import PredictionOut
from driftline.deployment.workflow import DeploymentDeps
from driftline.runtime.uow import UnitOfWorkFactory

Row = Mapping[str, Any]


def _variants(deployment: Deployment, count: int, routing_key: str | None) -> list[Variant]:
    canary = deployment.canary
    if canary is None:
        return ["champion"] * count
    share = live_percent(canary.current)
    return [choose_variant(canary.canary_id, share, routing_key) for _ in range(count)]


def _shadowing(deployment: Deployment) -> bool:
    return deployment.canary is not None and deployment.canary.current.shadow


def _served(deployment: Deployment, variant: Variant) -> Served:
    if variant == "canary" and deployment.canary is not None:
        return deployment.canary.challenger
    assert deployment.champion is not None
    return deployment.champion


async def _models(deployment: Deployment, deps: DeploymentDeps) -> dict[Variant, LoadedModel]:
    live_canary = deployment.canary is not None and not _shadowing(deployment)
    variants: list[Variant] = ["champion"] + (["canary"] if live_canary else [])
    loaded = {}
    for variant in variants:
        served = _served(deployment, variant)
        loaded[variant] = await deps.cache.get(served.model, served.artifact)
    return loaded


def _predict(model: LoadedModel, rows: Sequence[Row]) -> tuple[list[RowResult], float, float]:
    """Results, wall-clock latency (ms, what the judge compares) and CPU time (ms)."""
    started, cpu = time.perf_counter(), time.thread_time()
    matrix = float_matrix(rows, model.features) if model.array_estimator is not None else None
    results = predict_rows(model, matrix if matrix is not None else frame_of(rows, model.features))
    cpu_ms = (time.thread_time() - cpu) * 1000.0
    return results, (time.perf_counter() - started) * 1000.0, cpu_ms


async def _run_predict(
    deps: DeploymentDeps, served: Served, model: LoadedModel, rows: Sequence[Row]
) -> tuple[list[RowResult], float]:
    """Predict on the event loop when this model needed under ``INLINE_PREDICT_MS`` of CPU for
    as many rows last time (a thread hop costs more than a small linear model), else in a
    thread. CPU time, not wall time: waiting for the GIL under load must not push a cheap
    model into threads, where it would wait even more."""
    key = (served.model.name, served.model.version, len(rows).bit_length())
    last = deps.predict_ms.get(key)
    if last is not None and last < deps.settings.inline_predict_ms:
        results, latency, cpu_ms = _predict(model, rows)
    else:
        results, latency, cpu_ms = await asyncio.to_thread(_predict, model, rows)
    deps.predict_ms[key] = cpu_ms
    return results, latency


async def serve(
    units: UnitOfWorkFactory,
    deps: DeploymentDeps,
    name: str,
    instances: Sequence[Row],
    routing_key: str | None,
    request_ids: Sequence[str] | None = None,
) -> list[PredictionOut]:
    """Predictions in request order; ``FeatureError`` if any row has the wrong features.

    ``request_ids`` (one per row) replaces the generated ids (streaming requests carry them).
    During a shadow step the answered rows are offered to the mirror after logging.
    """
    deployment = await _deployment(units, deps, name)
    if deployment.champion is None:
        raise UnknownModelError(name)
    variants = _variants(deployment, len(instances), routing_key)
    models = await _models(deployment, deps)
    problems = [
        p
        for i, row in enumerate(instances)
        for p in row_problems(i, row, models[variants[i]].features)
    ]
    if problems:
        raise FeatureError(problems)
    outputs: dict[int, tuple[RowResult, float]] = {}
    for variant, model in models.items():
        indices = [i for i, v in enumerate(variants) if v == variant]
        if indices:
            results, latency = await _run_predict(
                deps, _served(deployment, variant), model, [instances[i] for i in indices]
            )
            outputs.update(zip(indices, [(r, latency) for r in results], strict=True))
    ids = list(request_ids) if request_ids is not None else [str(uuid.uuid4()) for _ in instances]
    answers, rows = _answers(deployment, instances, variants, outputs, ids)
    if deps.settings.log_predictions:
        await deps.log_writer.append(units, rows)
    if deployment.canary is not None and _shadowing(deployment):
        deps.mirror.offer(
            Mirrored(
                deployment.canary.canary_id,
                deployment.canary.challenger,
                tuple(instances),
                tuple(ids),
            )
        )
    return answers


async def _deployment(units: UnitOfWorkFactory, deps: DeploymentDeps, name: str) -> Deployment:
    """Who serves ``name``: from the routing cache, else PostgreSQL."""

    async def load(model: str) -> Deployment:
        async with units() as uow:
            return await PostgresRolloutRepository(uow.session).deployment(model)

    return await deps.routing.get(name, load)


def _answers(
    deployment: Deployment,
    instances: Sequence[Row],
    variants: list[Variant],
    outputs: dict[int, tuple[RowResult, float]],
    request_ids: list[str],
) -> tuple[list[PredictionOut], list[dict[str, Any]]]:
    """The caller's answers and the prediction-log rows, in request order."""
    now = datetime.now(UTC)
    canary_id = deployment.canary.canary_id if deployment.canary else None
    answers, rows = [], []
    for index, variant in enumerate(variants):
        result, latency = outputs[index]
        version = _served(deployment, variant).model.version
        request_id = request_ids[index]
        answers.append(
            PredictionOut.model_construct(  # our own values: validating them again costs more
                request_id=request_id,
                prediction=result.prediction,
                probabilities=result.probabilities,
                model_version=version,
                variant=variant,
                error=result.error,
            )
        )
        rows.append(
            {
                "request_id": request_id,
                "model": deployment.name,
                "version": version,
                "variant": variant,
                "canary_id": canary_id,
                "features": dict(instances[index]),
                "prediction": result.prediction,
                "score": result.score,
                "latency_ms": latency,
                "error": result.error,
                "created_at": now,
            }
        )
    return answers, rows


async def warm(units: UnitOfWorkFactory, deps: DeploymentDeps, name: str) -> Deployment:
    """Load what serves ``name`` now into the cache; ``UnknownModelError`` if nothing does."""
    deployment = await _deployment(units, deps, name)
    if deployment.champion is None:
        raise UnknownModelError(name)
    await _models(deployment, deps)
    return deployment
