"""Serving: route each row to champion or canary, check features, predict, log every row."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from driftline.deployment.adapters.postgres import PostgresRolloutRepository
from driftline.deployment.adapters.prediction_log import PostgresPredictionLog
from driftline.deployment.core import live_percent
from driftline.deployment.errors import FeatureError, UnknownModelError
from driftline.deployment.features import row_problems, to_frame
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


def _predict(model: LoadedModel, rows: Sequence[Row]) -> tuple[list[RowResult], float]:
    started = time.perf_counter()
    results = predict_rows(model, to_frame(rows, model.features))
    return results, (time.perf_counter() - started) * 1000.0


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
    async with units() as uow:
        deployment = await PostgresRolloutRepository(uow.session).deployment(name)
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
            results, latency = await asyncio.to_thread(
                _predict, model, [instances[i] for i in indices]
            )
            outputs.update(zip(indices, [(r, latency) for r in results], strict=True))
    ids = list(request_ids) if request_ids is not None else [str(uuid.uuid4()) for _ in instances]
    answers = await _log(units, deployment, instances, variants, outputs, ids)
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


async def _log(
    units: UnitOfWorkFactory,
    deployment: Deployment,
    instances: Sequence[Row],
    variants: list[Variant],
    outputs: dict[int, tuple[RowResult, float]],
    request_ids: list[str],
) -> list[PredictionOut]:
    now = datetime.now(UTC)
    canary_id = deployment.canary.canary_id if deployment.canary else None
    answers, rows = [], []
    for index, variant in enumerate(variants):
        result, latency = outputs[index]
        version = _served(deployment, variant).model.version
        request_id = request_ids[index]
        answers.append(
            PredictionOut(
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
    async with units() as uow:
        await PostgresPredictionLog(uow.session).append(rows)
    return answers


async def warm(units: UnitOfWorkFactory, deps: DeploymentDeps, name: str) -> Deployment:
    """Load what serves ``name`` now into the cache; ``UnknownModelError`` if nothing does."""
    async with units() as uow:
        deployment = await PostgresRolloutRepository(uow.session).deployment(name)
    if deployment.champion is None:
        raise UnknownModelError(name)
    await _models(deployment, deps)
    return deployment
