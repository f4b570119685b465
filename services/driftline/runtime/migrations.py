"""Run Alembic migrations for a service: the runtime chain, then the service's own chain."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

RUNTIME_VERSIONS = Path(__file__).parent / "alembic" / "versions"
_SCRIPT_LOCATION = Path(__file__).parent / "alembic"


def _config(connection: Connection, schema: str, versions: Path, version_table: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPT_LOCATION))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(versions))
    config.attributes.update(connection=connection, schema=schema, version_table=version_table)
    return config


def _upgrade(connection: Connection, schema: str, service_versions: Path | None) -> None:
    # One migrator at a time across replicas; the lock ends with the transaction.
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('driftline.migrate'))"))
    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    connection.execute(text(f'SET LOCAL search_path TO "{schema}"'))
    chains = [(RUNTIME_VERSIONS, "alembic_version_runtime")]
    if service_versions is not None:
        chains.append((service_versions, "alembic_version"))
    for versions, version_table in chains:
        command.upgrade(_config(connection, schema, versions, version_table), "head")


async def migrate(engine: AsyncEngine, schema: str, service_versions: Path | None = None) -> None:
    """Bring ``schema`` to the newest revision of the runtime and the service chains."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, schema, service_versions)
