"""Tables are declared once: each service's migrations, applied to an empty schema, build exactly
the tables its code declares (``sa.Table`` in its modules), column for column.

Old migrations keep creating the shapes of their day (a later one alters them), so "built from
the declarations" is checked as equality of the newest shape: Alembic's autogenerate comparison
of the migrated schema with the declared metadata (tables, columns, types, nullability, server
defaults, indexes, unique constraints and foreign keys) must find nothing.
"""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from collections.abc import Iterator
from types import ModuleType

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData, Table, text
from sqlalchemy.ext.asyncio import create_async_engine

from driftline.runtime.app import load_definition
from driftline.runtime.migrations import migrate
from driftline.runtime.services import SERVICE_NAMES
from driftline.runtime.tables import metadata as runtime_metadata

pytestmark = pytest.mark.integration
VERSION_TABLES = {"alembic_version", "alembic_version_runtime"}


def _modules(package: str) -> Iterator[ModuleType]:
    root = importlib.import_module(package)
    yield root
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if ".migrations" not in info.name:
            yield importlib.import_module(info.name)


def declared(service: str) -> MetaData:
    """Every table a service's code declares at module level, plus the runtime's own."""
    found: dict[str, Table] = {t.name: t for t in runtime_metadata.tables.values()}
    for module in _modules(f"driftline.{service}"):
        for value in vars(module).values():
            if isinstance(value, Table) and value.name not in VERSION_TABLES:
                found.setdefault(value.name, value)
    combined = MetaData()
    for table in found.values():
        table.to_metadata(combined)
    return combined


def _differences(connection: Connection, schema: str, metadata: MetaData) -> list[object]:
    connection.execute(text(f'SET search_path TO "{schema}"'))
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "compare_server_default": False,
            "include_name": lambda name, kind, _parent: (
                kind != "table" or name not in VERSION_TABLES
            ),
        },
    )
    return compare_metadata(context, metadata)


def describe(difference: object) -> str:
    """One line per difference, naming the table and column or index."""
    if isinstance(difference, list):  # column modifications come grouped
        return "; ".join(describe(item) for item in difference)
    assert isinstance(difference, tuple)
    kind = difference[0]
    if kind == "modify_nullable":
        _, _, table, column, _, migrated, declared_ = difference
        return f"{table}.{column}: nullable={migrated} migrated, {declared_} declared"
    if kind.startswith("modify_"):
        return f"{kind} {difference[2]}.{difference[3]}: {difference[-2]!r} -> {difference[-1]!r}"
    target = difference[-1]
    table = getattr(getattr(target, "table", None), "name", None) or difference[2]
    name = getattr(target, "name", None) or [c.name for c in getattr(target, "columns", [])]
    return f"{kind} {table} {name} (remove_*: only in migrations, add_*: only declared)"


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_migrations_build_exactly_the_declared_tables(local_stack, service: str) -> None:
    definition = load_definition(service)
    schema = f"tables_{service}_{uuid.uuid4().hex[:8]}"
    url = local_stack.audit_owner_database_url or local_stack.database_url
    engine = create_async_engine(url if service == "audit" else local_stack.database_url)
    try:
        await migrate(engine, schema, definition.migrations)
        async with engine.connect() as conn:
            found = await conn.run_sync(_differences, schema, declared(service))
            await conn.rollback()
        lines = "\n".join(describe(d) for d in found)
        assert found == [], f"{service}: migrations and declared tables differ:\n{lines}"
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()
