"""Composition of the deployment service."""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import APIRouter
from starlette.middleware import Middleware

from driftline.deployment.adapters.cache import ModelCache
from driftline.deployment.adapters.log_writer import PredictionLogWriter
from driftline.deployment.adapters.routing_cache import listen_for_changes
from driftline.deployment.batches import log_predictions_forever
from driftline.deployment.fast_path import PredictFastPath
from driftline.deployment.handlers import subscriptions
from driftline.deployment.http import predict_endpoint, v1_router
from driftline.deployment.judging import judge_canaries_forever
from driftline.deployment.mirror import ShadowMirror, mirror_forever
from driftline.deployment.operations import operations_router
from driftline.deployment.settings import DeploymentSettings, deployment_section
from driftline.deployment.stream_scoring import score_stream_forever
from driftline.deployment.unsent import UnsentRows
from driftline.deployment.v2 import v2_router
from driftline.deployment.workflow import DeploymentDeps
from driftline.runtime.service import ServiceDefinition, ServiceRuntime


def dependencies(runtime: ServiceRuntime) -> DeploymentDeps:
    """Object store, model cache, settings and shadow mirror, handed to handlers as ``uow.deps``."""
    section = deployment_section(runtime.section)
    cache = ModelCache(runtime.store, section.model_cache_size)
    mirror = ShadowMirror(section.shadow_queue_size)
    batch_rows = min(section.log_batch_rows, section.log_max_rows_per_event)
    unsent = UnsentRows(
        batch_rows,
        limit=10 * section.log_max_rows_per_event,
        flush_interval_s=section.log_flush_interval_s,
    )
    return DeploymentDeps(
        store=runtime.store,
        cache=cache,
        settings=section,
        mirror=mirror,
        log_writer=PredictionLogWriter(unsent),
    )


def routers(runtime: ServiceRuntime) -> list[APIRouter]:
    """The serving API, its operator routes and the Open Inference Protocol."""
    return [v1_router(runtime), operations_router(runtime), v2_router(runtime)]


def background(runtime: ServiceRuntime) -> list[Callable[[], Awaitable[None]]]:
    """Heap freeze, routing listener, log writer and batcher, canary judge, shadow mirror,
    stream scoring."""
    deps: DeploymentDeps = runtime.deps

    async def follow_routing_changes() -> None:
        await listen_for_changes(runtime.engine, deps.routing)

    async def write_prediction_log() -> None:
        await deps.log_writer.run(
            runtime.engine, synchronous_commit=deps.settings.log_synchronous_commit
        )

    async def send_prediction_batches() -> None:
        await log_predictions_forever(
            runtime.units, runtime.store, deps.settings, deps.log_writer.unsent
        )

    async def judge_canaries() -> None:
        await judge_canaries_forever(runtime.units, deps.settings)

    async def score_shadow_copies() -> None:
        await mirror_forever(runtime.units, deps.cache, deps.mirror)

    async def score_request_stream() -> None:
        await score_stream_forever(runtime)

    jobs = [
        freeze_startup_heap,
        follow_routing_changes,
        write_prediction_log,
        send_prediction_batches,
        judge_canaries,
        score_shadow_copies,
    ]
    return [*jobs, score_request_stream] if deps.settings.stream_scoring else jobs


async def freeze_startup_heap() -> None:
    """Move everything alive once the service has started (modules, the app, clients) out of
    the garbage collector's sight: a full collection then walks what requests allocate, not the
    whole scikit-learn/pandas/pydantic heap, which took ~200 ms per collection under load (the
    answer path's p99)."""
    gc.collect()
    gc.freeze()


def middleware(runtime: ServiceRuntime) -> list[Middleware]:
    """Predict requests answered before the router (``fast_path.py``)."""
    return [Middleware(PredictFastPath, endpoint=predict_endpoint(runtime))]


def definition() -> ServiceDefinition:
    """The deployment service: safe loading, serving, canary rollouts, prediction log."""
    return ServiceDefinition(
        name="deployment",
        subscriptions=subscriptions,
        routers=routers,
        middleware=middleware,
        migrations=Path(__file__).parent / "migrations",
        dependencies=dependencies,
        settings_cls=DeploymentSettings,
        background=background,
    )
