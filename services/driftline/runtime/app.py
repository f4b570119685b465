"""Build and run a service process by name."""

from __future__ import annotations

import importlib
import os
from typing import Any

import uvicorn
from fastapi import FastAPI

from driftline.runtime.gc_freeze import freeze_long_lived_objects
from driftline.runtime.http import build_http_app
from driftline.runtime.logging import configure_logging
from driftline.runtime.service import ServiceDefinition, ServiceRuntime
from driftline.runtime.services import SERVICE_NAMES
from driftline.runtime.settings import RuntimeSettings


def load_definition(service: str) -> ServiceDefinition:
    """Import ``driftline.<service>.app`` and return its definition."""
    if service not in SERVICE_NAMES:
        raise KeyError(f"unknown service {service!r}; expected one of {', '.join(SERVICE_NAMES)}")
    module = importlib.import_module(f"driftline.{service}.app")
    definition: ServiceDefinition = module.definition()
    return definition


def build_service_app(service: str, settings: RuntimeSettings | None = None) -> FastAPI:
    """The ASGI app of ``service`` built from ``settings`` (default: the environment)."""
    definition = load_definition(service)
    settings = settings or definition.settings_cls.load()
    runtime = ServiceRuntime(definition, settings)
    runtime.process_jobs.append(freeze_long_lived_objects)  # a process of its own
    app = build_http_app(runtime)  # refuses first without authentication settings
    runtime.origin.require()  # then without signing keys, before any port is bound
    return app


SERVICE_VAR = "DRIFTLINE_SERVE_SERVICE"
"""Which service ``worker_app`` builds in each worker process of ``serve --workers N``."""


def serve(
    service: str, *, host: str | None = None, port: int | None = None, workers: int = 1
) -> None:
    """Run ``service`` until SIGTERM/SIGINT, then finish in-flight work and exit.

    ``workers`` > 1: uvicorn's pre-fork master binds the port once and starts that many
    worker processes accepting on it; each builds its own runtime (consumers in the same
    groups, its own routing-cache listener and prediction log producer), as replicas do.
    """
    definition = load_definition(service)
    settings = definition.settings_cls.load()
    configure_logging(settings.log_level, settings.log_format, service=service)
    section = settings.section(service)
    target, options = uvicorn_target(service, workers)
    uvicorn.run(
        target,
        host=host or section.host,
        port=port or section.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(section.graceful_timeout_s),
        **options,
    )


def uvicorn_target(service: str, workers: int) -> tuple[Any, dict[str, Any]]:
    """What uvicorn runs: the app itself for one process, else an import string of
    ``worker_app`` (workers import it) with ``SERVICE_VAR`` naming the service."""
    if workers <= 1:
        return build_service_app(service), {}
    os.environ[SERVICE_VAR] = service
    return "driftline.runtime.app:worker_app", {"factory": True, "workers": workers}


def worker_app() -> FastAPI:
    """The app of one worker process of ``serve --workers N``."""
    service = os.environ[SERVICE_VAR]
    settings = load_definition(service).settings_cls.load()
    configure_logging(settings.log_level, settings.log_format, service=service)
    return build_service_app(service, settings)
