"""Retention of the outbox, on a real database: rows published before the cutoff go, a chunk
per statement; an unpublished row stays whatever its age, and recent rows stay. Every
service runs the job beside its other background work."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from driftline.deployment.app import definition as deployment_definition
from driftline.runtime.outbox_retention import OutboxRetention
from driftline.runtime.service import ServiceDefinition, ServiceRuntime
from driftline.runtime.tables import outbox
from driftline.stack import StackInfo
from tests.integration.deployment_schema import migrated_deployment_schema
from tests.integration.kafka_helpers import settings_from

NOW = datetime.now(UTC)


@pytest.fixture
async def schema(local_stack: StackInfo) -> AsyncIterator[ServiceRuntime]:
    """A service schema of its own, migrated (its outbox empty)."""
    async with migrated_deployment_schema(local_stack, "outbox_retention_") as runtime:
        yield runtime


def event(name: str, created: datetime, published: datetime | None) -> dict[str, Any]:
    return {
        "event_id": f"{name}-{uuid.uuid4().hex[:6]}", "event_type": name, "topic": "t",
        "key": None, "headers": [], "payload": b"{}", "created_at": created,
        "published_at": published,
    }  # fmt: skip


async def kept(runtime: ServiceRuntime) -> list[str]:
    async with runtime.engine.connect() as conn:
        found = await conn.execute(select(outbox.c.event_type).order_by(outbox.c.seq))
        return list(found.scalars())


async def test_published_rows_past_the_retention_go_and_every_other_row_stays(
    schema: ServiceRuntime,
) -> None:
    old = NOW - timedelta(days=10)
    rows = [event(f"old-published-{i}", old, old + timedelta(seconds=1)) for i in range(7)]
    rows.insert(3, event("old-unpublished", old, None))
    rows += [
        event("recent-published", NOW - timedelta(days=1), NOW - timedelta(days=1)),
        event("recent-unpublished", NOW, None),
        event("created-old-published-recently", old, NOW - timedelta(days=2)),
    ]
    async with schema.engine.begin() as conn:
        await conn.execute(insert(outbox), rows)

    retention = OutboxRetention(schema.engine, timedelta(days=7), chunk=3)
    steps = 1
    while await retention.step():
        steps += 1

    assert steps == 3  # 3 + 3 + 1 of the 7 old published rows
    assert await kept(schema) == [
        "old-unpublished", "recent-published", "recent-unpublished",
        "created-old-published-recently",
    ]  # fmt: skip
    assert await retention.step() is False  # the next pass finds nothing more
    assert len(await kept(schema)) == 4


async def test_every_service_runs_the_retention_job_and_stops_it(local_stack: StackInfo) -> None:
    migrations = deployment_definition().migrations
    name = "outbox_job_" + uuid.uuid4().hex[:8]
    runtime = ServiceRuntime(
        ServiceDefinition(name=name, migrations=migrations), settings_from(local_stack.env())
    )
    await runtime.start()
    try:
        names = {task.get_name() for task in asyncio.all_tasks() if not task.done()}
        assert f"{name}-prune_outbox" in names
    finally:
        await runtime.stop()
    assert not any(t.get_name().startswith(f"{name}-") for t in asyncio.all_tasks())
