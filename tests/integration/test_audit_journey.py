"""The audit sink on the real stack: the timeline in order with actors, a chain that verifies,
and tampering done directly in PostgreSQL (as a superuser) named at the first bad row."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from driftline.audit.adapters.postgres import PostgresAuditLog
from driftline.audit.app import definition
from driftline.audit.settings import AuditSettings
from driftline.audit.signer import write_digest
from driftline.audit.verify import verify_audit_log
from driftline.runtime.db import build_engine
from driftline.runtime.service import ServiceRuntime
from driftline.stack import LocalStack
from driftline.stack.state import load_state
from driftline_contracts import topics
from driftline_contracts.codec import encode
from driftline_contracts.envelope import new_envelope
from driftline_contracts.events import ModelApproved
from driftline_contracts.examples import example
from driftline_contracts.values import ModelRef
from tests.integration.kafka_helpers import (
    environment,
    header,
    produce_raw,
    read_topic,
    settings_from,
)
from tests.integration.probe import arrival
from tests.signing import publish_as

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
async def audit(local_stack) -> AsyncIterator[ServiceRuntime]:
    """The audit sink running in-process against the stack, as its own database role."""
    env = local_stack.service_env("audit")  # its role, its schema's owner, the stack's key
    with environment(env):
        settings = AuditSettings()
    runtime = ServiceRuntime(definition(), settings)
    await runtime.start()
    yield runtime
    await runtime.stop()


async def _ours(runtime: ServiceRuntime, subject: str, count: int) -> list:
    async with asyncio.timeout(60):
        while True:
            async with runtime.units() as uow:
                found = await PostgresAuditLog(uow.session).query(subject=subject)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.3)


async def _superuser(stack: LocalStack) -> asyncpg.Connection:
    state = load_state(stack.home)
    conn = await asyncpg.connect(
        host="127.0.0.1",
        port=state.ports["postgres"],
        user="postgres",
        password=state.pg_superuser_password,
        database="driftline",
    )
    await conn.execute("SET search_path TO driftline_audit")
    await conn.execute("SET session_replication_role = replica")  # bypasses the triggers
    return conn


async def _verify(runtime: ServiceRuntime):  # type: ignore[no-untyped-def]
    return await verify_audit_log(runtime.engine, runtime.store, runtime.deps)


async def test_timeline_chain_and_tampering(
    audit: ServiceRuntime, local_stack, local_stack_control: LocalStack
) -> None:
    subject = f"audit-{uuid.uuid4().hex[:8]}"
    actors = [f"pipeline:p{i}" for i in range(6)]
    records = []
    for i, actor in enumerate(actors):
        event = arrival(subject, 100 + i)
        record = encode(event, new_envelope(event, source="pipeline/audit-test", actor=actor))
        records.append((record.key, record.value, list(record.headers)))
    await produce_raw(local_stack.kafka_bootstrap, topics.AUDIT, records)
    entries = await _ours(audit, subject, 6)
    assert [e.actor for e in entries] == actors  # one key, one partition: in order
    assert [e.payload for e in entries] == [r[1] for r in records]
    await write_digest(audit, audit.deps)
    report = await _verify(audit)
    assert report.ok, report
    seqs = [e.seq for e in entries]

    # The sink's own role may append and read, never change or remove a row.
    assert audit.engine.url.username == "driftline_audit"
    for statement in (
        f"UPDATE audit_log SET actor='user:x' WHERE seq={seqs[0]}",
        f"DELETE FROM audit_log WHERE seq={seqs[0]}",
        "TRUNCATE audit_log",
    ):
        async with audit.engine.connect() as conn:
            with pytest.raises(Exception, match="permission denied"):
                await conn.exec_driver_sql(statement)
    # The other services' role has no access to the schema at all; even the schema's owner
    # (used only by the sink's migrations) is stopped by the append-only triggers.
    for url, refusal in (
        (local_stack.database_url, "permission denied"),
        (local_stack.service_env("audit")["DRIFTLINE_DATABASE__MIGRATION_URL"], "append-only"),
    ):
        database = settings_from(local_stack.env()).database.model_copy(update={"url": url})
        engine = build_engine(database, audit.schema)
        try:
            async with engine.connect() as conn:
                with pytest.raises(Exception, match=refusal):
                    await conn.exec_driver_sql(
                        f"UPDATE driftline_audit.audit_log SET actor='x' WHERE seq={seqs[0]}"
                    )
        finally:
            await engine.dispose()

    su = await _superuser(local_stack_control)
    try:
        s5, s6 = seqs[4], seqs[5]
        await su.execute(f"UPDATE audit_log SET seq=-1 WHERE seq={s5}")
        await su.execute(f"UPDATE audit_log SET seq={s5} WHERE seq={s6}")
        await su.execute(f"UPDATE audit_log SET seq={s6} WHERE seq=-1")
        problem = (await _verify(audit)).problem
        assert (problem.kind, problem.seq) == ("reordered", s5)

        await su.execute(f"UPDATE audit_log SET payload='{{}}'::bytea WHERE seq={seqs[2]}")
        problem = (await _verify(audit)).problem
        assert (problem.kind, problem.seq) == ("tampered", seqs[2])

        # Other tests' events may sit between ours in the chain: the first bad row is
        # whichever entry now follows the deleted one.
        next_seq = await su.fetchval(f"SELECT min(seq) FROM audit_log WHERE seq > {seqs[0]}")
        await su.execute(f"DELETE FROM audit_log WHERE seq={seqs[0]}")
        problem = (await _verify(audit)).problem
        assert (problem.kind, problem.seq) == ("deleted", next_seq)
    finally:
        await su.close()


async def test_the_chain_records_whose_signature_it_verified(
    audit: ServiceRuntime, local_stack
) -> None:
    """On the audit stream: an approval signed by the registry is chained with origin
    'registry'; one nobody signed is dead-lettered unverified_origin, never chained; a
    pipeline's unsigned DataArrived is chained with no origin."""
    model = f"audit-origin-{uuid.uuid4().hex[:8]}"
    approved = example(ModelApproved).model_copy(
        update={"model": ModelRef(name=model, version=1)}
    )
    genuine = await publish_as(local_stack, "registry", approved, actor="user:bob",
                               topic=topics.AUDIT)  # fmt: skip
    forged = await publish_as(local_stack, None, approved, actor="user:mallory",
                              source="driftline/registry", topic=topics.AUDIT)  # fmt: skip
    dataset = arrival(model, 1)
    await publish_as(local_stack, None, dataset, actor="pipeline:p", topic=topics.AUDIT)
    (dead,) = await read_topic(local_stack.kafka_bootstrap, topics.dlq(topics.AUDIT),
                               lambda r: header(r, "ce_id") == forged.id, timeout_s=60)  # fmt: skip
    assert str(header(dead, "dlq-reason")).startswith("unverified_origin: ")
    entries = {e.type: e for e in await _ours(audit, model, 2)}
    chained = entries[approved.ce_type]
    assert (chained.event_id, chained.actor, chained.origin) == (genuine.id, "user:bob", "registry")
    assert entries[dataset.ce_type].origin is None
    assert forged.id not in {e.event_id for e in entries.values()}
