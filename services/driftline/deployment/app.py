"""Composition of the deployment service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import APIRouter

from driftline.deployment.adapters.cache import ModelCache
from driftline.deployment.batches import log_predictions_forever
from driftline.deployment.handlers import subscriptions
from driftline.deployment.http import v1_router
from driftline.deployment.judging import judge_canaries_forever
from driftline.deployment.settings import DeploymentSettings, deployment_section
from driftline.deployment.v2 import v2_router
from driftline.deployment.workflow import DeploymentDeps
from driftline.runtime.service import ServiceDefinition, ServiceRuntime


def dependencies(runtime: ServiceRuntime) -> DeploymentDeps:
    """Object store, model cache and settings, handed to handlers as ``uow.deps``."""
    section = deployment_section(runtime.section)
    cache = ModelCache(runtime.store, section.model_cache_size)
    return DeploymentDeps(store=runtime.store, cache=cache, settings=section)


def routers(runtime: ServiceRuntime) -> list[APIRouter]:
    """The serving API and the Open Inference Protocol."""
    return [v1_router(runtime), v2_router(runtime)]


def background(runtime: ServiceRuntime) -> list[Callable[[], Awaitable[None]]]:
    """The prediction-log batcher and the canary judge."""
    deps: DeploymentDeps = runtime.deps

    async def send_prediction_batches() -> None:
        await log_predictions_forever(runtime.units, runtime.store, deps.settings)

    async def judge_canaries() -> None:
        await judge_canaries_forever(runtime.units, deps.settings)

    return [send_prediction_batches, judge_canaries]


def definition() -> ServiceDefinition:
    """The deployment service: safe loading, serving, canary rollouts, prediction log."""
    return ServiceDefinition(
        name="deployment",
        subscriptions=subscriptions,
        routers=routers,
        migrations=Path(__file__).parent / "migrations",
        dependencies=dependencies,
        settings_cls=DeploymentSettings,
        background=background,
    )
