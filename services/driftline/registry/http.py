"""Registry HTTP API: specs, the model catalog and manual approval."""

from __future__ import annotations

from fastapi import APIRouter

from driftline.registry.models_api import approval_router, catalog_router
from driftline.registry.specs_api import specs_router
from driftline.runtime.service import ServiceRuntime


def routers(runtime: ServiceRuntime) -> list[APIRouter]:
    """Every router of the registry service."""
    return [specs_router(runtime), catalog_router(runtime), approval_router(runtime)]
