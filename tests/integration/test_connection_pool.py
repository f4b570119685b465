"""The connection pool pings a connection only when it sat idle, and replaces a dead one."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from driftline.runtime.db import ALIVE_BYPASS_S, build_engine, ping_when_idle
from driftline.stack.info import StackInfo
from tests.integration.kafka_helpers import settings_from

pytestmark = pytest.mark.integration


async def _backend_pid(engine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT pg_backend_pid()")))


async def _terminate(engine, pid: int) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


async def test_a_connection_killed_while_idle_is_replaced_before_use(
    local_stack: StackInfo,
) -> None:
    database = settings_from(local_stack.env()).database
    engine, admin = build_engine(database, "public"), build_engine(database, "public")
    try:
        pid = await _backend_pid(engine)
        assert await _backend_pid(engine) == pid  # reused from the pool
        await _terminate(admin, pid)
        await asyncio.sleep(ALIVE_BYPASS_S * 2)  # idle: the next checkout pings
        assert await _backend_pid(engine) != pid  # a fresh connection, no error
    finally:
        await engine.dispose()
        await admin.dispose()


async def test_a_connection_killed_inside_the_bypass_window_fails_once_then_recovers(
    local_stack: StackInfo,
) -> None:
    database = settings_from(local_stack.env()).database
    engine, admin = create_async_engine(database.url), build_engine(database, "public")
    ping_when_idle(engine, bypass_s=60.0)  # wide, so a slow machine cannot leave the window
    try:
        pid = await _backend_pid(engine)
        await _terminate(admin, pid)
        with pytest.raises(DBAPIError) as failed:  # not pinged: trusted, found dead on use
            await _backend_pid(engine)
        assert failed.value.connection_invalidated
        assert await _backend_pid(engine) != pid
    finally:
        await engine.dispose()
        await admin.dispose()
