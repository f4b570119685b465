"""Retention of the PostgreSQL prediction log, on a real database: old rows go once sent,
unsent ones stay whatever their age, recent ones stay, and a pass walks the table in chunks
until it reaches rows served after the cutoff."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select

from driftline.deployment.prediction_log.retention import RetentionPass, prune_chunk, prune_sql
from driftline.deployment.tables import open_prediction_batches, predictions, shadow_predictions
from driftline.runtime.service import ServiceRuntime
from driftline.stack import StackInfo
from tests.integration.deployment_schema import migrated_deployment_schema

NOW = datetime.now(UTC)
OLD, RECENT = NOW - timedelta(days=40), NOW - timedelta(days=2)


@pytest.fixture
async def schema(local_stack: StackInfo) -> AsyncIterator[ServiceRuntime]:
    """Deployment's tables in a schema of their own, migrated and empty."""
    async with migrated_deployment_schema(local_stack, "retention_") as runtime:
        yield runtime


def row(
    name: str, at: datetime, *, batch: str | None = None, error: str | None = None
) -> dict[str, Any]:
    return {
        "request_id": name, "model": "m", "version": 1, "variant": "champion",
        "features": {"x": 1.0}, "prediction": 1, "score": 0.9, "latency_ms": 0.5,
        "error": error, "created_at": at, "batch_id": batch,
    }  # fmt: skip


def shadow(name: str, at: datetime, *, batch: str | None = None) -> dict[str, Any]:
    return {
        "request_id": name, "canary_id": "c1", "model": "m", "version": 2, "prediction": 1,
        "score": 0.8, "latency_ms": 0.7, "error": None, "created_at": at, "batch_id": batch,
    }  # fmt: skip


async def left(runtime: ServiceRuntime, table: Any) -> list[str]:
    async with runtime.units() as uow:
        found = await uow.session.execute(select(table.c.request_id).order_by(table.c.id))
        return list(found.scalars())


async def run_pass(retention: RetentionPass) -> int:
    steps = 1
    while await retention.step():
        steps += 1
    return steps


async def test_old_sent_rows_go_and_everything_else_stays(schema: ServiceRuntime) -> None:
    rows = [
        row("old-sent-1", OLD, batch="b-sent"),
        row("old-failed", OLD, error="ValueError: bad row"),  # never sent: may go
        row("old-unsent", OLD),  # no batch yet: the recovery pass sends it first
        row("old-open", OLD, batch="b-open"),  # its batch is still registered: unsent
        *(row(f"old-sent-{i}", OLD + timedelta(seconds=i), batch="b-sent") for i in range(2, 9)),
        row("recent", RECENT, batch="b-sent"),
        row("recent-unsent", RECENT),
        row("late-old", OLD, batch="b-sent"),  # after recent ones: goes once they are old too
    ]
    shadows = [shadow("s-old-sent", OLD, batch="b-s"), shadow("s-old-unsent", OLD),
               shadow("s-recent", RECENT, batch="b-s")]  # fmt: skip
    async with schema.units() as uow:
        await uow.session.execute(insert(predictions), rows)
        await uow.session.execute(insert(shadow_predictions), shadows)
        await uow.session.execute(
            insert(open_prediction_batches).values(
                batch_id="b-open", model="m", version=1, opened_at=OLD
            )
        )
    retention = RetentionPass(schema.units, timedelta(days=30), chunk=3)
    steps = await run_pass(retention)
    assert steps >= 5, "three ids per statement: the pass walked the old rows chunk by chunk"
    assert await left(schema, predictions) == [
        "old-unsent", "old-open", "recent", "recent-unsent", "late-old",
    ]  # fmt: skip
    assert await left(schema, shadow_predictions) == ["s-old-unsent", "s-recent"]

    async with schema.units() as uow:  # the open batch is sent: its registration goes
        await uow.session.execute(delete(open_prediction_batches))
    await run_pass(retention)
    remaining = await left(schema, predictions)
    assert "old-open" not in remaining
    assert {"old-unsent", "recent", "recent-unsent"} <= set(remaining)


async def test_an_empty_table_ends_the_pass_and_other_tables_are_refused(
    schema: ServiceRuntime,
) -> None:
    found = await prune_chunk(schema.units, predictions.name, NOW, after=0)
    assert (found.deleted, found.last_id, found.done) == (0, None, True)
    with pytest.raises(ValueError, match="not a prediction log table"):
        prune_sql("predictions; DROP TABLE predictions")
