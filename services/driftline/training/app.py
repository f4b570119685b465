"""Composition of the training service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from driftline.runtime.openlineage import LineageEmitter
from driftline.runtime.service import ServiceDefinition, ServiceRuntime
from driftline.runtime.trainer_policy import trainer_policy
from driftline.training.deps import TrainingDeps
from driftline.training.handlers import subscriptions
from driftline.training.http import routers
from driftline.training.pool import TrainingPool
from driftline.training.settings import (
    TrainingSettings,
    process_limits,
    training_section,
    worker_identity,
)
from driftline.training.submissions_api import PREFIX as SUBMISSIONS
from driftline.training.submissions_api import submissions_router
from driftline.training.tracking.routes import tracking_routers
from driftline.training.worker import TrainingWorker


def dependencies(runtime: ServiceRuntime) -> TrainingDeps:
    """One process pool per replica, so reproductions count against ``max_workers`` too;
    one trainer policy, which the handlers and every training process check specs against."""
    section = training_section(runtime.section)
    policy = trainer_policy(runtime.settings.trainers)
    return TrainingDeps(
        settings=section,
        store=runtime.store,
        pool=TrainingPool(section.max_workers, policy, process_limits(section)),
        policy=policy,
        lineage=LineageEmitter(runtime.settings.openlineage),
    )


def background(runtime: ServiceRuntime) -> list[Callable[[], Awaitable[None]]]:
    """The training processes' forkserver warming up, and the worker that claims queued
    jobs and trains them in those processes."""
    deps: TrainingDeps = runtime.deps
    worker = TrainingWorker(
        units=runtime.units,
        store=runtime.store,
        settings=deps.settings,
        pool=deps.pool,
        worker=worker_identity(deps.settings),
        lineage=deps.lineage,
        metrics=runtime.metrics,
    )
    return [deps.pool.warm, worker.run_forever]


def definition() -> ServiceDefinition:
    """The training service: durable jobs from accepted data, specs and drift; runs over HTTP."""
    return ServiceDefinition(
        name="training",
        subscriptions=subscriptions,
        routers=lambda runtime: [
            *routers(runtime), *tracking_routers(runtime), submissions_router(runtime)
        ],
        migrations=Path(__file__).parent / "migrations",
        dependencies=dependencies,
        settings_cls=TrainingSettings,
        background=background,
        streamed_bodies=streamed_bodies,
    )


def streamed_bodies(runtime: ServiceRuntime) -> dict[str, int]:
    """Tracked runs' artifact uploads (Driftline's and MLflow's PUT) and submitted model files
    (POST) may pass the JSON limit, up to ``max_artifact_bytes``."""
    limit = training_section(runtime.section).max_artifact_bytes
    return {
        f"{SUBMISSIONS}/": limit,
        "PUT /v1/tracking/runs/": limit,
        "PUT /api/2.0/mlflow-artifacts/artifacts/": limit,
        "PUT /ajax-api/2.0/mlflow-artifacts/artifacts/": limit,
    }
