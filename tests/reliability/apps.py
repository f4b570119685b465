"""Service HTTP apps on the session's PostgreSQL, each in a schema of its own.

Nothing is started: no consumers join groups, no relay publishes, so what a hostile client
writes stays in the throw-away schema and never reaches the session's topics.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text

from driftline.runtime.app import load_definition
from driftline.runtime.db import build_engine
from driftline.runtime.http import build_http_app
from driftline.runtime.migrations import migrate
from driftline.runtime.service import ServiceRuntime
from driftline.runtime.settings import RuntimeSettings
from driftline.runtime.storage.local import LocalArtifactStore


@asynccontextmanager
async def isolated_app(
    service: str, settings: RuntimeSettings, objects: Path
) -> AsyncIterator[tuple[FastAPI, ServiceRuntime]]:
    """``service``'s ASGI app over a fresh schema and a local object store in ``objects``."""
    definition = load_definition(service)
    settings = definition.settings_cls.model_validate(settings.model_dump())
    audit = getattr(settings, "audit", None)
    if service == "audit" and audit is not None and audit.digest_key is None:
        # The audit sink refuses to start without its digest key (docs/audit.md).
        keyed = audit.model_copy(update={"digest_key": SecretStr(uuid.uuid4().hex)})
        settings = settings.model_copy(update={"audit": keyed})
    schema = f"driftline_rel_{service}_{uuid.uuid4().hex[:8]}"
    engine = build_engine(settings.database.model_copy(update={"pool_size": 2}), schema)
    store = LocalArtifactStore(objects / service)
    runtime = ServiceRuntime(definition, settings, store=store, engine=engine)
    await migrate(engine, schema, definition.migrations)
    try:
        yield build_http_app(runtime), runtime
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()
