"""Scenario 10: each role against each write endpoint of every service, with bearer tokens.

Every service's app runs over its own throw-away schema with tokens configured. Without a
token, with an unknown one, or with forged actor/role headers a write is 401; a viewer's is
403 (scoring excepted); only approvers approve, never on a model whose spec they applied;
the token's actor is the actor of the event (the outbox row the relay copies to the audit
topic), whatever actor header the client sent.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from driftline.runtime.auth import SCORING_SUFFIXES
from driftline.runtime.deadletter import RawRecord
from driftline.runtime.service import ServiceRuntime
from driftline.runtime.services import SERVICE_NAMES
from driftline.runtime.settings import AuthSettings
from driftline.runtime.tables import outbox
from driftline.stack import StackInfo
from driftline_contracts.codec import encode
from driftline_contracts.envelope import new_envelope
from driftline_contracts.events.registry import ModelApproved
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.events.training import ModelTrained
from driftline_contracts.examples import example
from tests.integration.kafka_helpers import settings_from
from tests.reliability.apps import isolated_app
from tests.reliability.figures import Figures
from tests.signing import stack_signer

TOKENS = {
    "viewer": ("tok-viewer-7f3a", "user:vera"),
    "publisher": ("tok-publisher-91bc", "user:alice"),
    "approver": ("tok-approver-0d2e", "user:bob"),
    "admin": ("tok-admin-55aa", "user:root"),
}
ALICE_APPROVER = "tok-alice-approver-3c1d"  # alice also holds the approver role
CALLERS = ("no token", "bad token", "forged headers", "viewer", "publisher", "approver", "admin")
SAMPLE = {"name": "churn-clf", "version": "1", "model": "churn-clf", "run_id": "r1"}
SPEC = {
    "model": "churn-clf", "dataset": "churn", "target": "churned", "task": "classification",
    "trainer": {"estimator": "sklearn.linear_model.LogisticRegression"},
    "gates": [{"metric": "accuracy", "min": 0.5}], "approval": "manual",
}  # fmt: skip


def _auth() -> AuthSettings:
    entries = [f"{token} {actor} {role}" for role, (token, actor) in TOKENS.items()]
    entries.append(f"{ALICE_APPROVER} user:alice approver")
    return AuthSettings(tokens=SecretStr("; ".join(entries)))


def _headers(caller: str) -> dict[str, str]:
    if caller == "no token":
        return {}
    if caller == "bad token":
        return {"Authorization": "Bearer not-a-token"}
    if caller == "forged headers":
        return {"X-Driftline-Actor": "user:mallory", "X-Driftline-Role": "approver"}
    return {"Authorization": f"Bearer {TOKENS[caller][0]}"}


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE.get(m.group(1), "x"), path)


def _write_operations(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method.upper() not in ("GET", "HEAD", "OPTIONS")
    ]


@pytest.fixture
async def secured(local_stack, tmp_path: Path) -> AsyncIterator[dict]:
    """Every service's app with tokens configured, and its runtime."""
    settings = settings_from(local_stack.env()).model_copy(update={"auth": _auth()})
    apps = {}
    for service in SERVICE_NAMES:
        context = isolated_app(service, settings, tmp_path)
        apps[service] = (*(await context.__aenter__()), context)
    yield {s: (app, runtime) for s, (app, runtime, _) in apps.items()}
    for *_, context in apps.values():
        await context.__aexit__(None, None, None)


def _client(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_access_matrix_of_every_write_endpoint(secured: dict, figures: Figures) -> None:
    matrix: dict[str, dict[str, int]] = {}
    for service, (app, _) in secured.items():
        async with _client(app) as client:
            for method, path in _write_operations(app):
                row = matrix.setdefault(f"{service} {method} {path}", {})
                for caller in CALLERS:
                    response = await client.request(
                        method, _url(path), headers=_headers(caller), json={}
                    )
                    row[caller] = response.status_code
    assert matrix, "no write endpoint found"
    for endpoint, row in matrix.items():
        assert all(code < 500 for code in row.values()), (endpoint, row)
        assert (row["no token"], row["bad token"], row["forged headers"]) == (401, 401, 401)
        scoring = endpoint.endswith(SCORING_SUFFIXES)
        assert (row["viewer"] != 403) if scoring else (row["viewer"] == 403), (endpoint, row)
        for role in ("publisher", "approver", "admin"):
            assert row[role] != 401, (endpoint, role)
        if endpoint.endswith(("/approve", "/reject")):
            assert row["approver"] != 403, endpoint
            assert row["publisher"] == row["admin"] == 403, (endpoint, row)
    figures.record(
        "10 access control (status per caller)",
        **{"write endpoints": len(matrix), "callers": len(CALLERS), "matrix": matrix},
    )
    table = ["| endpoint | " + " | ".join(CALLERS) + " |", "|---|" + "---|" * len(CALLERS)]
    table += [
        f"| `{endpoint}` | " + " | ".join(str(row[c]) for c in CALLERS) + " |"
        for endpoint, row in matrix.items()
    ]
    print("\n" + "\n".join(table))


async def _outbox_actor(runtime: ServiceRuntime, ce_type: str) -> list[str]:
    async with runtime.units() as uow:
        rows = await uow.session.execute(
            select(outbox.c.headers).where(outbox.c.event_type == ce_type)
        )
    return [dict(h)["ce_actor"] for (h,) in rows]


async def test_only_another_approver_approves_and_the_actor_is_in_the_event(
    secured: dict, local_stack: StackInfo
) -> None:
    app, runtime = secured["registry"]
    async with _client(app) as client:
        applied = await client.post(
            "/v1/specs",
            json=SPEC,
            headers={**_headers("publisher"), "X-Driftline-Actor": "user:mallory"},
        )
        assert applied.status_code == 201, applied.text
        assert applied.json()["applied_by"] == "user:alice"
        assert await _outbox_actor(runtime, ModelSpecApplied.ce_type) == ["user:alice"]

        trained = example(ModelTrained).model_copy(update={"model": "churn-clf"})
        record = encode(trained, new_envelope(trained, source="t", actor="service:training"))
        signer = stack_signer(local_stack, "training")  # only training's word registers
        signature = signer.signature(record.headers, record.value) if signer else []
        on_model_trained = next(p for p in runtime.processors if p.consumer.endswith("trained"))
        await on_model_trained.process(RawRecord(record.topic, 0, 0, record.key, record.value,
                                                 (*record.headers, *signature)))  # fmt: skip
        pending = await client.get("/v1/models/churn-clf/versions/1")
        assert pending.json()["status"] == "pending"

        url = "/v1/models/churn-clf/versions/1/approve"
        as_applier = await client.post(url, headers={"Authorization": f"Bearer {ALICE_APPROVER}"})
        assert as_applier.status_code == 409, as_applier.text  # alice applied the spec
        as_admin = await client.post(url, headers=_headers("admin"))
        assert as_admin.status_code == 403
        approved = await client.post(url, headers=_headers("approver"), json={"comment": "ok"})
        assert approved.status_code == 200, approved.text
        assert approved.json()["decided_by"] == "user:bob"
    assert await _outbox_actor(runtime, ModelApproved.ce_type) == ["user:bob"]
