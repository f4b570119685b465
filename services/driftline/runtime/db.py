"""PostgreSQL access: one async engine per service, bound to the service's own schema."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError
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
    engine = create_async_engine(
        database.url,
        pool_size=database.pool_size,
        connect_args={
            "timeout": database.connect_timeout_s,
            "server_settings": {"search_path": f"{schema},public"},
        },
    )
    ping_when_idle(engine, ALIVE_BYPASS_S)
    return engine


# A connection checked in less than this long ago is handed out without a ping.
ALIVE_BYPASS_S = 0.5


def ping_when_idle(engine: AsyncEngine, bypass_s: float) -> None:
    """Ping a pooled connection before handing it out, unless it was in use ``bypass_s`` ago.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: one more round trip per
    transaction, an eighth of a registration's time. Like HikariCP's alive-bypass window,
    a connection that was working a moment ago is trusted; one that sat idle is pinged, and
    a dead one is replaced (``DisconnectionError`` makes the pool connect afresh). A
    connection that dies inside the window fails its first statement, which SQLAlchemy
    reports as a disconnect (invalidating the pool) and the caller retries as transient.
    """

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _checked_in(_: Any, record: Any) -> None:
        if record is not None:
            record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _: Any) -> None:
        if time.monotonic() - record.info.get("checked_in_at", 0.0) < bypass_s:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError(f"pooled connection is dead: {exc!r}") from exc


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
