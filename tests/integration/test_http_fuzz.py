"""Every service's OpenAPI fuzzed in process, with hostile bodies on top: no answer >= 500.

Each service's real app (``build_http_app`` over its definition) runs on a throw-away schema
of the session stack's PostgreSQL and a local object store, past auth with the stack's admin
token. Every operation gets a few schemathesis requests; every JSON body is also sent with a
number turned into ``NaN`` and into ``1e999``, and once with a declared 1 GiB length. A
server error is a failure, except the documented 503 of ``/readyz`` (nothing is started
here, so the broker is not connected); afterwards each app still answers ``/healthz`` and
reaches its database. Bounded: a few examples per operation, the file runs in well under a
minute. (``tests/reliability/test_hostile_http.py`` runs the longer conformance campaign.)
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from driftline.runtime.services import SERVICE_NAMES
from driftline.stack.tokens import role_tokens
from tests.integration.kafka_helpers import settings_from
from tests.reliability.apps import isolated_app

pytestmark = pytest.mark.integration
EXAMPLES_PER_OPERATION = 3
READINESS = ("/readyz", "/health/ready")  # 503 by design: nothing is started here
NUMBER = re.compile(rb"(?<=[:\[,] )-?\d+(\.\d+)?([eE][+-]?\d+)?(?=[,\]}])")


@pytest.fixture(autouse=True)
def audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit sink refuses to start without a digest key; the stack env may not carry one
    into the service's own settings class, which reads the process environment."""
    if "DRIFTLINE_AUDIT__DIGEST_KEY" not in os.environ:
        monkeypatch.setenv("DRIFTLINE_AUDIT__DIGEST_KEY", "fuzz-digest-key-0123456789")


def stack_settings(info: Any) -> Any:
    """The session stack's settings."""
    return settings_from(info.env())


def admin_headers(info: Any) -> dict[str, str]:
    """The stack's admin token, so requests reach the handlers (auth is on by default)."""
    path = info.auth_tokens_file
    token = role_tokens(path).get("admin") if path and path.exists() else None
    return {"Authorization": f"Bearer {token}"} if token else {}


def hostile_bodies(body: Any) -> list[bytes]:
    """``body`` as JSON with its first number spelled ``NaN`` and ``1e999`` (none: as is)."""
    text = json.dumps(body).encode()
    if NUMBER.search(text) is None:
        text = json.dumps({"value": body, "x": 0}).encode() if isinstance(body, dict) else text
    return [NUMBER.sub(spelled, text, count=1) for spelled in (b"NaN", b"1e999")]


def request_of(case: Any) -> dict[str, Any]:
    """httpx keyword arguments for a schemathesis case."""
    kwargs = case.as_transport_kwargs(base_url="http://fuzz")
    request = {k: kwargs[k] for k in ("method", "url", "headers", "params") if k in kwargs}
    for key, target in (("json", "json"), ("files", "files")):
        if kwargs.get(key) is not None:
            request[target] = kwargs[key]
    data = kwargs.get("data")
    if data is not None:
        request["content" if isinstance(data, bytes | str) else "data"] = data
    return request


def server_error(path: str, status: int) -> bool:
    """A 5xx other than readiness saying the (never started) service is not ready."""
    return status >= 500 and not (path.endswith(READINESS) and status == 503)


def oversized_requests(schema: Any) -> list[tuple[str, str]]:
    """(method, path) of every operation that takes a body, path parameters filled in."""
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() in ("POST", "PUT", "PATCH"):
            found.append((operation.method.upper(), re.sub(r"{[^}]+}", "fuzz", operation.path)))
    return found


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_no_request_gets_a_server_error(service: str, local_stack, tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()  # hypothesis drives the examples synchronously
    context = isolated_app(service, stack_settings(local_stack), tmp_path)
    app, runtime = loop.run_until_complete(context.__aenter__())
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://fuzz",
        headers=admin_headers(local_stack),
    )
    errors: dict[str, str] = {}
    answered: list[int] = []

    def send(label: str, path: str, **request: Any) -> None:
        response = loop.run_until_complete(client.request(**request))
        answered.append(response.status_code)
        if server_error(path, response.status_code):
            errors.setdefault(f"{label} -> {response.status_code}", response.text[:300])

    schema = schemathesis.openapi.from_dict(app.openapi())
    try:
        for result in schema.get_all_operations():
            operation = result.ok()

            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                      derandomize=True, suppress_health_check=list(HealthCheck))  # fmt: skip
            @given(case=operation.as_strategy())
            def check(case: Any) -> None:
                request = request_of(case)
                label = f"{case.method} {case.operation.path}"
                send(label, case.operation.path, **request)
                if "json" not in request:
                    return
                plain = {k: v for k, v in request.items() if k != "json"}
                headers = {**plain.pop("headers", {}), "content-type": "application/json"}
                for body in hostile_bodies(request["json"]):
                    send(f"{label} {body[:80]!r}", case.operation.path, **plain,
                         headers=headers, content=body)  # fmt: skip

            check()
        with_bodies = oversized_requests(schema)
        for method, path in with_bodies:
            declared = {"content-length": str(1 << 30), "content-type": "application/json"}
            send(f"{method} {path} 1 GiB", path, method=method, url=path, headers=declared,
                 content=b"{}")  # fmt: skip
        health = loop.run_until_complete(client.get("/healthz"))
        checks = loop.run_until_complete(runtime.readiness())
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(context.__aexit__(None, None, None))
        loop.close()
    assert not errors, "\n".join(f"{k}: {v}" for k, v in errors.items())
    assert answered.count(413) >= len(with_bodies)  # every declared 1 GiB body refused
    assert health.status_code == 200
    assert checks.get("database") is None, checks


NON_FINITE = [
    ("deployment", "/v1/models/iris/predict", b'{"instances": [{"a": 1.0, "b": NaN}]}',
     ["body", "instances", 0, "b"]),
    ("deployment", "/v2/models/iris/infer",
     b'{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [Infinity]}]}',
     ["body", "inputs", 0, "data", 0]),
    ("deployment", "/v1/models/iris/feedback",
     b'{"labels": [{"request_id": "r1", "label": -Infinity}]}', ["body", "labels", 0, "label"]),
    ("deployment", "/v1/models/iris/batch",
     b'{"uri": "s3://driftline/x.csv", "threshold": 1e999}', ["body", "threshold"]),
    ("deployment", "/v1/models/iris/promote", b'{"version": 1e999}', ["body", "version"]),
    ("registry", "/v1/specs", b'{"name": "s", "params": {"alpha": NaN}}',
     ["body", "params", "alpha"]),
    ("registry", "/v1/models/iris/versions/1/approve", b'{"note": "ok", "score": NaN}',
     ["body", "score"]),
]  # fmt: skip


@pytest.mark.parametrize("service", ["deployment", "registry"])
async def test_non_finite_numbers_are_a_422_naming_the_field(
    service: str, local_stack, tmp_path: Path
) -> None:
    cases = [(path, body, loc) for name, path, body, loc in NON_FINITE if name == service]
    answers = []
    async with isolated_app(service, stack_settings(local_stack), tmp_path) as (app, _):
        transport = httpx.ASGITransport(app=app)
        headers = {**admin_headers(local_stack), "content-type": "application/json"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for path, body, _ in cases:
                answers.append(await client.post(path, content=body, headers=headers))
    for (path, _, loc), answer in zip(cases, answers, strict=True):
        assert answer.status_code == 422, path
        (error,) = json.loads(answer.text)["detail"]  # strict JSON: no NaN echoed back
        assert (error["loc"], error["type"]) == (loc, "finite_number"), path
