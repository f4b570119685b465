"""PostgreSQL access: one async engine per service, bound to the service's own schema."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from driftline.runtime.settings import DatabaseSettings

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def schema_for(service: str) -> str:
    """The PostgreSQL schema a service owns (``ingest`` → ``driftline_ingest``)."""
    schema = "driftline_" + service.replace("-", "_")
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"not a valid schema name: {schema!r}")
    return schema


def build_engine(database: DatabaseSettings, schema: str) -> AsyncEngine:
    """An asyncpg-backed engine whose sessions see ``schema`` first on the search path."""
    return create_async_engine(
        database.url,
        pool_size=database.pool_size,
        pool_pre_ping=True,
        connect_args={
            "timeout": database.connect_timeout_s,
            "server_settings": {"search_path": f"{schema},public"},
        },
    )


def build_migration_engine(database: DatabaseSettings, schema: str) -> AsyncEngine | None:
    """A one-connection engine for ``migration_url``, or None when migrations use ``url``."""
    if not database.migration_url:
        return None
    owner = database.model_copy(update={"url": database.migration_url, "pool_size": 1})
    return build_engine(owner, schema)


async def ping_database(engine: AsyncEngine, timeout_s: float = 3.0) -> None:
    """Raise if PostgreSQL does not answer ``SELECT 1`` within ``timeout_s``."""
    async with asyncio.timeout(timeout_s), engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
