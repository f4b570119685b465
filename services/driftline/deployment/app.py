"""Composition of the deployment service."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.middleware import Middleware

from driftline.deployment.deps import DeploymentDeps, predict_executor
from driftline.deployment.handlers import subscriptions
from driftline.deployment.jobs import background_jobs
from driftline.deployment.models.cache import ModelCache
from driftline.deployment.operations import operations_router
from driftline.deployment.prediction_log.unsent import UnsentRows
from driftline.deployment.prediction_log.write_metrics import write_metrics
from driftline.deployment.prediction_log.writer import PredictionLogWriter
from driftline.deployment.serving.batch_metrics import batch_metrics
from driftline.deployment.serving.batchers import Batchers
from driftline.deployment.serving.fast_path import PredictFastPath
from driftline.deployment.serving.http import predict_endpoint, v1_router
from driftline.deployment.serving.v2 import v2_router
from driftline.deployment.settings import DeploymentSettings, deployment_section
from driftline.deployment.shadow.mirror import ShadowMirror
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
        log_writer=PredictionLogWriter(unsent, write_metrics(runtime.metrics.registry)),
        batchers=Batchers(batch_metrics(runtime.metrics.registry)),
        predict_pool=predict_executor(section.predict_threads),
    )


def routers(runtime: ServiceRuntime) -> list[APIRouter]:
    """The serving API, its operator routes and the Open Inference Protocol."""
    return [v1_router(runtime), operations_router(runtime), v2_router(runtime)]


def middleware(runtime: ServiceRuntime) -> list[Middleware]:
    """Predict requests answered before the router (``serving/fast_path.py``)."""
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
        background=background_jobs,
    )
