"""Composition of the console: read model, other services' APIs, templates, sign-in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import APIRouter
from starlette.middleware import Middleware

from driftline.console.adapters.artifacts import StoreArtifacts
from driftline.console.adapters.reader import PostgresReadModel
from driftline.console.adapters.upstream import HttpUpstream
from driftline.console.deps import ConsoleDeps, build_templates
from driftline.console.handlers import subscriptions
from driftline.console.settings import ConsoleSection, ConsoleSettings
from driftline.console.web.actions import actions_router
from driftline.console.web.audit_pages import audit_router
from driftline.console.web.pages import pages_router
from driftline.console.web.plot_pages import plot_pages_router
from driftline.console.web.session import CookieIdentity
from driftline.console.web.signin import signin_router
from driftline.runtime.auth import auth_layer
from driftline.runtime.service import ServiceDefinition, ServiceRuntime


def build_deps(runtime: ServiceRuntime) -> ConsoleDeps:
    """Everything the pages read, built from the runtime's engine and settings."""
    section = runtime.section
    assert isinstance(section, ConsoleSection)
    layer = auth_layer(runtime.settings.auth)
    return ConsoleDeps(
        reader=PostgresReadModel(runtime.engine),
        upstream=HttpUpstream(section),
        templates=build_templates(),
        section=section,
        sign_in_required=layer.mode == "bearer",
        verify=layer.options.get("verify"),
        artifacts=StoreArtifacts(runtime.store),
    )


def _routers(runtime: ServiceRuntime) -> list[APIRouter]:
    deps: ConsoleDeps = runtime.deps
    return [
        signin_router(deps),
        pages_router(deps),
        plot_pages_router(deps),
        audit_router(deps),
        actions_router(deps),
    ]


def _middleware(runtime: ServiceRuntime) -> list[Middleware]:
    return [Middleware(CookieIdentity, verify=runtime.deps.verify)]


def _jobs(runtime: ServiceRuntime) -> list[Callable[[], Awaitable[None]]]:
    async def close_upstream_on_stop() -> None:
        """Hold the HTTP client open while the service runs; close it when stop cancels us."""
        try:
            await asyncio.Event().wait()
        finally:
            await runtime.deps.upstream.close()

    return [close_upstream_on_stop]


def definition() -> ServiceDefinition:
    """The console: web pages over its own projection of the audit stream."""
    return ServiceDefinition(
        name="console",
        subscriptions=subscriptions,
        routers=_routers,
        middleware=_middleware,
        migrations=Path(__file__).parent / "migrations",
        dependencies=build_deps,
        settings_cls=ConsoleSettings,
        background=_jobs,
    )
