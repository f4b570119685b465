"""Attacks on the audit trail, on a stack of its own: the services' role cannot touch the
audit schema, and rows rewritten or removed by a superuser (even re-signed with the leaked
key) are named by ``driftline audit verify`` against the write-once digest copies in S3."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from driftline.audit.adapters.postgres import PostgresAuditLog
from driftline.audit.app import definition
from driftline.audit.core import AuditEntry
from driftline.audit.digests import next_digest
from driftline.audit.settings import AuditSettings
from driftline.audit.signer import write_digest
from driftline.runtime.http import build_http_app
from driftline.runtime.service import ServiceRuntime
from driftline.stack import LocalStack
from driftline.stack.audit_roles import OWNER, provision_audit_schema
from driftline.stack.info import StackInfo
from driftline.stack.state import load_state
from driftline_contracts import topics
from driftline_contracts.codec import encode
from driftline_contracts.envelope import new_envelope
from tests.integration.kafka_helpers import environment, produce_raw
from tests.integration.probe import arrival
from tests.unit.audit.chains import rechain

pytestmark = [pytest.mark.integration, pytest.mark.slow]
_FIELDS = [f.name for f in dataclasses.fields(AuditEntry)]


@pytest.fixture(scope="module")
def info(own_stack: LocalStack) -> StackInfo:
    """Connection settings of this module's own stack."""
    return own_stack.info()


@pytest.fixture(scope="module")
async def audit(info: StackInfo) -> AsyncIterator[ServiceRuntime]:
    """The audit sink in-process, as the local stack configures it (role, owner, key)."""
    env = {**info.service_env("audit"), "DRIFTLINE_AUDIT__DIGEST_INTERVAL_S": "3600"}
    with environment(env):
        runtime = ServiceRuntime(definition(), AuditSettings())
    await runtime.start()
    yield runtime
    await runtime.stop()


async def _connect(info: StackInfo, url: str | None = None) -> asyncpg.Connection:
    dsn = (url or info.database_url).replace("postgresql+asyncpg://", "postgresql://", 1)
    return await asyncpg.connect(dsn)


async def _superuser(stack: LocalStack) -> asyncpg.Connection:
    state = load_state(stack.home)
    conn = await asyncpg.connect(
        host="127.0.0.1", port=state.ports["postgres"], user="postgres",
        password=state.pg_superuser_password, database="driftline",
    )  # fmt: skip
    await conn.execute("SET search_path TO driftline_audit")
    await conn.execute("SET session_replication_role = replica")  # bypasses the triggers
    return conn


async def _audit_events(info: StackInfo, runtime: ServiceRuntime, count: int) -> None:
    subject = f"tamper-{uuid.uuid4().hex[:8]}"
    records = []
    for i in range(count):
        event = arrival(subject, i)
        record = encode(event, new_envelope(event, source="pipeline/t", actor="user:alice"))
        records.append((record.key, record.value, list(record.headers)))
    await produce_raw(info.kafka_bootstrap, topics.AUDIT, records)
    async with asyncio.timeout(60):
        while True:
            async with runtime.units() as uow:
                if len(await PostgresAuditLog(uow.session).query(subject=subject)) >= count:
                    return
            await asyncio.sleep(0.3)


async def _published(runtime: ServiceRuntime) -> None:
    """Wait until the outbox relayed the digests onto the stream."""
    for _ in range(150):
        if not await runtime.relay.backlog():
            return
        await asyncio.sleep(0.2)
    pytest.fail("the outbox did not publish the digests within 30 s")


async def _chain_ok_over_http(runtime: ServiceRuntime) -> float | None:
    """GET /v1/audit/verify as the console calls it, then what /metrics says about the chain
    (the DriftlineAuditChainBroken alert's source)."""
    app = build_http_app(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/v1/audit/verify")).status_code == 200
        metrics = (await c.get("/metrics")).text
    found = re.search(r"^driftline_audit_chain_ok (\S+)$", metrics, re.MULTILINE)
    return float(found.group(1)) if found else None


def _verify_cli(stack: LocalStack) -> tuple[int, dict]:
    """``driftline audit verify --json`` as a user runs it next to the local stack."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    env["DRIFTLINE_HOME"] = str(stack.home)
    done = subprocess.run(
        [sys.executable, "-m", "driftline", "audit", "verify", "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.stdout.strip(), done.stderr
    return done.returncode, json.loads(done.stdout)


def _findings(report: dict) -> set[tuple[str, int]]:
    return {(f["kind"], f["seq"]) for f in report["findings"]}


async def test_the_services_role_cannot_touch_the_audit_schema(
    audit: ServiceRuntime, info: StackInfo
) -> None:
    services = await _connect(info)  # the role every other service connects as
    try:
        for statement in (
            "ALTER TABLE driftline_audit.audit_log DISABLE TRIGGER ALL",
            "SELECT count(*) FROM driftline_audit.audit_log",
            "INSERT INTO driftline_audit.audit_digest VALUES (99, 1, 1, 'h', 'p', 't', 's')",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await services.execute(statement)
    finally:
        await services.close()
    writer = await _connect(info, info.audit_database_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="owner"):
            await writer.execute("ALTER TABLE driftline_audit.audit_log DISABLE TRIGGER ALL")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await writer.execute("UPDATE driftline_audit.audit_digest SET signature = 'x'")
    finally:
        await writer.close()
    owner = await _connect(info, info.audit_owner_database_url)
    try:  # the owner is stopped by the triggers (and only the sink's migrations use it)
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await owner.execute("TRUNCATE driftline_audit.audit_digest")
    finally:
        await owner.close()


async def test_rewrites_and_truncation_are_named_by_verify(
    audit: ServiceRuntime, info: StackInfo, own_stack: LocalStack
) -> None:
    key = info.audit_digest_key.encode()
    assert (own_stack.home / "audit-digest.key").stat().st_mode & 0o777 == 0o600
    await _audit_events(info, audit, 12)
    await write_digest(audit, key)
    await _audit_events(info, audit, 8)
    await write_digest(audit, key)
    await _published(audit)
    code, report = _verify_cli(own_stack)
    assert (code, report["ok"], report["digests"]) == (0, True, 2), report
    assert report["checked_against"] == ["PostgreSQL", "s3", "stream"]
    assert await _chain_ok_over_http(audit) == 1.0
    head = report["head_seq"]

    su = await _superuser(own_stack)
    try:
        # Truncation: the newest 8 rows and the digest covering them go.
        await su.execute(f"DELETE FROM audit_log WHERE seq > {head - 8}")
        await su.execute("DELETE FROM audit_digest WHERE number = 2")
        code, report = _verify_cli(own_stack)
        assert code == 1
        assert ("truncated", head - 7) in _findings(report), report
        removed = [f["detail"] for f in report["findings"] if f["kind"] == "digest-removed"]
        assert len(removed) == 2, report
        assert any("stream" in d for d in removed), report
        assert await _chain_ok_over_http(audit) == 0.0

        # A rewritten approver, the chain rebuilt and re-signed with the (leaked) key.
        rows = [AuditEntry(**{n: r[n] for n in _FIELDS}) for r in
                await su.fetch("SELECT * FROM audit_log ORDER BY seq")]  # fmt: skip
        rows[4] = dataclasses.replace(rows[4], actor="user:mallory")
        for row in rechain(rows):
            await su.execute(
                "UPDATE audit_log SET actor=$1, prev_hash=$2, hash=$3 WHERE seq=$4",
                row.actor, row.prev_hash, row.hash, row.seq,
            )  # fmt: skip
        digest1 = await su.fetchrow("SELECT * FROM audit_digest WHERE number = 1")
        new_head = next(r.hash for r in rechain(rows) if r.seq == digest1["last_seq"])
        resigned = next_digest(key, None, digest1["last_seq"], new_head, digest1["signed_at"])
        await su.execute(
            "UPDATE audit_digest SET head_hash=$1, signature=$2 WHERE number=1",
            resigned.head_hash, resigned.signature,
        )  # fmt: skip
        code, report = _verify_cli(own_stack)
        assert code == 1
        assert report["problem"] is None  # the rows alone hold together
        assert ("resigned", digest1["last_seq"]) in _findings(report), report
        assert ("rewritten", digest1["last_seq"]) in _findings(report), report
    finally:
        await su.close()


async def test_an_older_stacks_audit_schema_is_handed_to_its_owner_role(
    own_stack: LocalStack, info: StackInfo
) -> None:
    schema = "legacy_audit_handover"
    su = await _superuser(own_stack)
    try:
        await su.execute("SET ROLE driftline")  # as stacks before the role split made it
        await su.execute(f"CREATE SCHEMA {schema}")
        await su.execute(f"CREATE TABLE {schema}.log (seq bigserial PRIMARY KEY, v text)")
        await su.execute(f"CREATE SEQUENCE {schema}.loose")
        await su.execute(f"CREATE FUNCTION {schema}.f() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        await su.execute("RESET ROLE")
        await provision_audit_schema(su, "driftline", schema)
        owners = await su.fetch(
            "SELECT pg_get_userbyid(nspowner) AS o FROM pg_namespace WHERE nspname = $1 "
            "UNION ALL SELECT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = $1 "
            "UNION ALL SELECT pg_get_userbyid(p.proowner) FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = $1",
            schema,
        )
        assert len(owners) >= 5  # schema, table, its index and sequence, loose sequence, f
        assert {r["o"] for r in owners} == {OWNER}
        services = await _connect(info)
        try:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await services.execute(f"ALTER TABLE {schema}.log DISABLE TRIGGER ALL")
        finally:
            await services.close()
    finally:
        await su.execute("RESET ROLE")
        await su.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await su.close()
