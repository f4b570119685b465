"""Scenario 8: schemathesis against every service's OpenAPI, in process (ASGI, no network).

Each service's app runs over its own throw-away PostgreSQL schema of the session stack (so
NUL bytes, huge numbers and odd Unicode meet the real database) and a local object store.
Every operation gets generated requests; none may answer 5xx, and every response must match
the status codes, media types and body schemas the OpenAPI document declares.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from driftline.runtime.services import SERVICE_NAMES
from tests.integration.kafka_helpers import settings_from
from tests.reliability.apps import isolated_app
from tests.reliability.figures import Figures
from tests.tokens import stack_headers

EXAMPLES_PER_OPERATION = 25
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
TOTALS: Counter[str] = Counter()


def _request(case: Any) -> dict[str, Any]:
    """httpx keyword arguments for a schemathesis case."""
    kwargs = case.as_transport_kwargs(base_url="http://fuzz")
    request = {k: kwargs[k] for k in ("method", "url", "headers", "params") if k in kwargs}
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    data = kwargs.get("data")
    if isinstance(data, bytes | str):
        request["content"] = data
    elif data is not None:
        request["data"] = data
    if kwargs.get("files"):
        request["files"] = kwargs["files"]
    return request


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_generated_requests_get_no_5xx_and_conforming_responses(
    service: str, local_stack, tmp_path: Path
) -> None:
    # Hypothesis drives the examples synchronously, so this test owns its event loop.
    loop = asyncio.new_event_loop()
    context = isolated_app(service, settings_from(local_stack.env()), tmp_path)
    app, _ = loop.run_until_complete(context.__aenter__())
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://fuzz",
        headers=stack_headers(local_stack, "approver"),  # past auth, into every handler
    )
    schema = schemathesis.openapi.from_dict(app.openapi())
    failures: dict[str, str] = {}  # distinct operation + status → first finding
    try:
        for result in schema.get_all_operations():
            operation = result.ok()

            responses = operation.definition.raw["responses"]

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def check(case: Any) -> None:
                response = loop.run_until_complete(client.request(**_request(case)))
                TOTALS["requests"] += 1
                TOTALS[f"{response.status_code // 100}xx"] += 1
                label = f"{case.method} {case.operation.path} -> {response.status_code}"
                documented = str(response.status_code) in responses  # noqa: B023
                if response.status_code >= 500 and not documented:
                    TOTALS["undocumented 5xx"] += 1
                    failures.setdefault(label, response.text[:300])
                    return
                try:
                    case.validate_response(response, checks=CHECKS)
                except (Exception, BaseExceptionGroup) as exc:  # schemathesis groups findings
                    failures.setdefault(label, str(exc)[:400])

            check()
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(context.__aexit__(None, None, None))
        loop.close()
    TOTALS["operations"] += len(list(schema.get_all_operations()))
    TOTALS["failures"] += len(failures)
    assert not failures, "\n".join(f"{k}: {v}" for k, v in failures.items())


def test_zz_http_figures(figures: Figures) -> None:
    """Record how many generated requests every service answered, and how."""
    assert TOTALS["requests"] > 0
    figures.record(
        "8 hostile HTTP (schemathesis)",
        **{
            "services": len(SERVICE_NAMES),
            "operations": TOTALS["operations"],
            "requests": TOTALS["requests"],
            "server errors (undocumented 5xx)": TOTALS["undocumented 5xx"],
            "documented 503 (readiness without a broker)": TOTALS["5xx"],
            "schema violations": TOTALS["failures"],
            "2xx": TOTALS["2xx"],
            "4xx": TOTALS["4xx"],
        },
    )
