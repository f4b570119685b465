"""Deployment's tables in a PostgreSQL schema of their own on the session's stack, migrated,
nothing started: for tests of the prediction log's statements on a real database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from driftline.deployment.app import definition as deployment_definition
from driftline.runtime.migrations import migrate
from driftline.runtime.service import ServiceDefinition, ServiceRuntime
from driftline.stack import StackInfo
from tests.integration.kafka_helpers import settings_from


@asynccontextmanager
async def migrated_deployment_schema(
    stack: StackInfo, prefix: str
) -> AsyncIterator[ServiceRuntime]:
    """A runtime whose schema is ``prefix`` plus a random suffix, migrated with deployment's
    migrations; its engine is disposed on exit."""
    migrations = deployment_definition().migrations
    runtime = ServiceRuntime(
        ServiceDefinition(name=prefix + uuid.uuid4().hex[:8], migrations=migrations),
        settings_from(stack.env()),
    )
    await migrate(runtime.engine, runtime.schema, migrations)
    try:
        yield runtime
    finally:
        await runtime.engine.dispose()
