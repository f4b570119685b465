"""The audit schema's own roles: an owner for migrations, a writer for the sink.

Every other service connects as ``driftline``, the database's owner. Had ``driftline`` owned
the audit schema too, any service could ``ALTER TABLE audit_log DISABLE TRIGGER`` and rewrite
the log. So the schema belongs to ``driftline_audit_owner`` (used only by the audit sink's
migrations), the sink runs as ``driftline_audit`` (SELECT and INSERT, granted by migration
a0002), and ``driftline`` is given nothing in the schema.
"""

from __future__ import annotations

from typing import Any

SCHEMA = "driftline_audit"
OWNER = "driftline_audit_owner"
WRITER = "driftline_audit"
SERVICES_ROLE = "driftline"

_TRANSFER = """
DO $$
DECLARE r record;
BEGIN
    ALTER SCHEMA {schema} OWNER TO {owner};
    FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = '{schema}' AND c.relkind IN ('r', 'p', 'v', 'm') LOOP
        EXECUTE format('ALTER TABLE {schema}.%I OWNER TO {owner}', r.relname);
    END LOOP;
    FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = '{schema}' AND c.relkind = 'S' AND NOT EXISTS (
                 SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')) LOOP
        EXECUTE format('ALTER SEQUENCE {schema}.%I OWNER TO {owner}', r.relname);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = '{schema}' LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO {owner}', r.fn);
    END LOOP;
END $$;
"""
"""Hand a schema and everything in it to another role (``{schema}``/``{owner}`` filled in)."""


async def ensure_role(conn: Any, role: str, password: str) -> None:
    """Create login ``role`` when missing and set its password."""
    if not await conn.fetchval("select 1 from pg_roles where rolname = $1", role):
        await conn.execute(f"create role {role} login")
    await conn.execute(f"alter role {role} with login password '{password}'")


async def provision_audit_schema(conn: Any, database: str, schema: str = SCHEMA) -> None:
    """In ``database`` (as a superuser): ``schema`` owned by OWNER, nothing in it for others.

    A schema made by an older stack (owned by ``driftline``) is handed over, with everything
    in it, to the owner role.
    """
    await conn.execute(f"grant connect, create on database {database} to {OWNER}")
    await conn.execute(f"grant connect on database {database} to {WRITER}")
    owner = await conn.fetchval(
        "select pg_get_userbyid(nspowner) from pg_namespace where nspname = $1", schema
    )
    if owner is None:
        await conn.execute(f"create schema {schema} authorization {OWNER}")
    elif owner != OWNER:
        await conn.execute(_TRANSFER.format(schema=schema, owner=OWNER))
    await conn.execute(f"revoke all on schema {schema} from public, {SERVICES_ROLE}")
    await conn.execute(f"revoke all on all tables in schema {schema} from public, {SERVICES_ROLE}")
