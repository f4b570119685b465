"""Migration i0005 on a catalog written before it: the counter becomes the upload number and
accepted rows get the version validation gave them (no number for a rejection)."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

from driftline.ingest.app import definition
from driftline.runtime.migrations import _config, migrate

pytestmark = pytest.mark.integration

ROWS = [  # (name, old version number, sha256 letter, verdict)
    ("churn", 1, "a", "validated"),
    ("churn", 2, "b", "rejected"),
    ("churn", 3, "c", "validated"),
    ("churn", 4, "d", None),  # not judged yet
    ("iris", 1, "e", "rejected"),
    ("iris", 2, "f", "validated"),
]


def _to_i0004_with_rows(connection: Connection, schema: str) -> None:
    connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    connection.execute(text(f'SET LOCAL search_path TO "{schema}"'))
    command.upgrade(
        _config(connection, schema, definition().migrations, "alembic_version"), "i0004"
    )
    for name, number, letter, verdict in ROWS:
        connection.execute(
            text(
                "INSERT INTO dataset_versions (name, version, sha256, uri, format, source, actor,"
                " event_id, validation_status) VALUES (:n, :v, :s, 'u', 'csv', 's', 'a', :e, :st)"
            ),
            {"n": name, "v": number, "s": letter * 64, "e": f"{name}-{number}", "st": verdict},
        )
        if verdict is not None:
            connection.execute(
                text("INSERT INTO validation_outcomes (name, sha256, status) VALUES (:n, :s, :st)"),
                {"n": name, "s": letter * 64, "st": verdict},
            )


def _catalog(connection: Connection, schema: str) -> list[tuple]:
    connection.execute(text(f'SET search_path TO "{schema}"'))
    rows = connection.execute(
        text(
            "SELECT d.name, d.upload, d.version, o.version FROM dataset_versions d"
            " LEFT JOIN validation_outcomes o USING (name, sha256) ORDER BY d.name, d.upload"
        )
    )
    return [tuple(r) for r in rows]


async def test_old_counter_becomes_upload_and_accepted_rows_get_their_versions(
    local_stack,
) -> None:
    schema = f"ingest_i0005_{uuid.uuid4().hex[:8]}"
    engine = create_async_engine(local_stack.database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to_i0004_with_rows, schema)
        await migrate(engine, schema, definition().migrations)
        async with engine.connect() as conn:
            catalog = await conn.run_sync(_catalog, schema)
        assert catalog == [  # (name, upload, version, the outcome's version)
            ("churn", 1, 1, 1),
            ("churn", 2, None, None),
            ("churn", 3, 2, 2),
            ("churn", 4, None, None),
            ("iris", 1, None, None),
            ("iris", 2, 1, 1),
        ]
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()
