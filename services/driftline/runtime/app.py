"""Build and run a service process by name."""

from __future__ import annotations

import importlib

import uvicorn
from fastapi import FastAPI

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
    return build_http_app(ServiceRuntime(definition, settings))


def serve(service: str, *, host: str | None = None, port: int | None = None) -> None:
    """Run ``service`` until SIGTERM/SIGINT, then finish in-flight work and exit."""
    definition = load_definition(service)
    settings = definition.settings_cls.load()
    configure_logging(settings.log_level, settings.log_format, service=service)
    section = settings.section(service)
    app = build_http_app(ServiceRuntime(definition, settings))
    uvicorn.run(
        app,
        host=host or section.host,
        port=port or section.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(section.graceful_timeout_s),
    )
