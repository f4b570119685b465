"""Every tracking router: Driftline's own API, MLflow's (and its ajax twin), the artifact proxy."""

from __future__ import annotations

from fastapi import APIRouter

from driftline.runtime.service import ServiceRuntime
from driftline.training.tracking.datasets import datasets_router
from driftline.training.tracking.http import tracking_router
from driftline.training.tracking.mlflow_api import PREFIXES, mlflow_router
from driftline.training.tracking.mlflow_artifacts import mlflow_artifacts_router
from driftline.training.tracking.service import Tracking


def tracking_routers(runtime: ServiceRuntime) -> list[APIRouter]:
    """The routers training adds for experiment tracking."""
    mlflow = [mlflow_router(runtime, prefix) for prefix in PREFIXES]
    artifacts = mlflow_artifacts_router(Tracking(runtime.units, runtime.store))
    return [tracking_router(runtime), datasets_router(runtime), *mlflow, artifacts]
