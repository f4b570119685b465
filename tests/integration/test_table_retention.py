"""Retention of the runtime's tables, on a real database. Outbox: rows published before the
cutoff go, a chunk per statement; an unpublished row stays whatever its age, and recent rows
stay. Inbox (when its retention is set): rows handled before the cutoff go. Every service
runs the outbox's job beside its other background work, and the inbox's only when asked."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Table, insert, select

from driftline.deployment.app import definition as deployment_definition
from driftline.runtime.service import ServiceDefinition, ServiceRuntime
from driftline.runtime.table_retention import TableRetention, inbox_retention, outbox_retention
from driftline.runtime.tables import inbox, outbox
from driftline.stack import StackInfo
from tests.integration.deployment_schema import migrated_deployment_schema
from tests.integration.kafka_helpers import settings_from

NOW = datetime.now(UTC)


@pytest.fixture
async def schema(local_stack: StackInfo) -> AsyncIterator[ServiceRuntime]:
    """A service schema of its own, migrated (its outbox empty)."""
    async with migrated_deployment_schema(local_stack, "table_retention_") as runtime:
        yield runtime


def event(name: str, created: datetime, published: datetime | None) -> dict[str, Any]:
    return {
        "event_id": f"{name}-{uuid.uuid4().hex[:6]}", "event_type": name, "topic": "t",
        "key": None, "headers": [], "payload": b"{}", "created_at": created,
        "published_at": published,
    }  # fmt: skip


async def passed(
    schema: ServiceRuntime, table: Table, rows: list[dict[str, Any]], retention: TableRetention
) -> int:
    """Insert ``rows`` into ``table``, run one pass of ``retention``; its statements."""
    async with schema.engine.begin() as conn:
        await conn.execute(insert(table), rows)
    steps = 1
    while await retention.step():
        steps += 1
    return steps


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
    retention = outbox_retention(schema.engine, 7)
    retention.chunk = 3
    assert await passed(schema, outbox, rows, retention) == 3  # 3 + 3 + 1 old published rows
    assert await kept(schema) == [
        "old-unpublished", "recent-published", "recent-unpublished",
        "created-old-published-recently",
    ]  # fmt: skip
    assert await retention.step() is False  # the next pass finds nothing more
    assert len(await kept(schema)) == 4


async def test_inbox_rows_handled_before_the_cutoff_go(schema: ServiceRuntime) -> None:
    def handled(event: str, at: datetime) -> dict[str, Any]:
        return {
            "consumer": "svc.on_thing", "event_id": event, "event_type": "t", "topic": "t",
            "partition": 0, "offset": 1, "handled_at": at, "payload_sha256": None,
        }  # fmt: skip

    old = NOW - timedelta(days=40)
    rows = [handled(f"old-{i}", old) for i in range(5)] + [handled("recent", NOW)]
    retention = inbox_retention(schema.engine, 30)
    retention.chunk = 2
    assert await passed(schema, inbox, rows, retention) == 3  # 2 + 2 + 1
    async with schema.engine.connect() as conn:
        left = (await conn.execute(select(inbox.c.event_id))).scalars().all()
    assert left == ["recent"]


async def _running_jobs(local_stack: StackInfo, env: dict[str, str]) -> set[str]:
    """The names of a started service's tasks (the service is stopped again)."""
    migrations = deployment_definition().migrations
    name = "table_jobs_" + uuid.uuid4().hex[:8]
    runtime = ServiceRuntime(
        ServiceDefinition(name=name, migrations=migrations),
        settings_from({**local_stack.env(), **env}),
    )
    await runtime.start()
    try:
        names = {t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith(name)}
    finally:
        await runtime.stop()
    assert not any(t.get_name().startswith(f"{name}-") for t in asyncio.all_tasks())
    return {n.removeprefix(f"{name}-") for n in names}


async def test_every_service_prunes_its_outbox_and_its_inbox_only_when_asked(
    local_stack: StackInfo,
) -> None:
    default = await _running_jobs(local_stack, {})
    assert "prune_outbox" in default
    assert "prune_inbox" not in default
    asked = await _running_jobs(local_stack, {"DRIFTLINE_INBOX__RETENTION_DAYS": "14"})
    assert {"prune_outbox", "prune_inbox"} <= asked
