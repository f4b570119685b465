"""Writes as the caller and monitoring's window reads, over a mock transport."""

from __future__ import annotations

import asyncio
import json

import httpx
from pydantic import SecretStr

from driftline.console.adapters.upstream import HttpUpstream
from driftline.console.settings import ConsoleSection
from tests.unit.console.samples import WINDOWS, report

URLS = {"deployment": "http://deployment:3", "monitoring": "http://monitoring:4"}


def _upstream(handler: httpx.MockTransport) -> HttpUpstream:
    section = ConsoleSection(service_urls=URLS, service_token=SecretStr("console-token"))
    return HttpUpstream(section, transport=handler)


def test_a_roll_back_is_posted_with_the_callers_token_and_the_refusal_is_readable() -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if b"refunds" in request.content:
            return httpx.Response(200, json={"model": "churn", "version": 1, "previous": 2})
        if b"reason" not in request.content:
            return httpx.Response(
                422, json={"detail": [{"loc": ["body", "reason"], "msg": "Field required"}]}
            )
        return httpx.Response(409, json={"detail": "a rollout is running"})

    upstream = _upstream(httpx.MockTransport(answer))
    path = "/v1/models/churn/versions/1/promote"
    ok = asyncio.run(upstream.write("deployment", path, {"reason": "refunds"}, "Bearer me"))
    busy = asyncio.run(upstream.write("deployment", path, {"reason": "x"}, "Bearer me"))
    invalid = asyncio.run(upstream.write("deployment", path, {}, "Bearer me"))
    assert ok == (200, "done")
    assert busy == (409, "a rollout is running")
    assert invalid == (422, "body.reason: Field required")
    assert str(sent[0].url) == "http://deployment:3/v1/models/churn/versions/1/promote"
    assert sent[0].headers["authorization"] == "Bearer me"  # the caller's, not the console's
    assert json.loads(sent[0].content) == {"reason": "refunds"}


def test_a_service_that_does_not_answer_is_a_502_naming_it() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    status, detail = asyncio.run(
        _upstream(httpx.MockTransport(refuse)).write("registry", "/v1/x", {}, "Bearer me")
    )
    assert status == 502
    assert "registry" in detail


def test_monitorings_windows_and_one_windows_report_are_read_with_the_console_token() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/drift/windows"):
            return httpx.Response(200, json=WINDOWS)
        if request.url.path.endswith("/drift/windows/3"):
            return httpx.Response(200, json=report(3))
        return httpx.Response(404, json={"detail": "no such window"})

    upstream = _upstream(httpx.MockTransport(answer))
    windows, problem = asyncio.run(upstream.drift_windows("churn", 50))
    assert (len(windows), problem) == (3, None)
    assert str(seen[0].url) == "http://monitoring:4/v1/models/churn/drift/windows?limit=50"
    assert seen[0].headers["authorization"] == "Bearer console-token"
    assert asyncio.run(upstream.window_report("churn", 3)) == report(3)
    assert asyncio.run(upstream.window_report("churn", 9)) is None


def test_monitoring_down_is_a_reason_not_an_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    windows, problem = asyncio.run(
        _upstream(httpx.MockTransport(refuse)).drift_windows("churn", 50)
    )
    assert windows == []
    assert problem is not None
    assert "unreachable" in problem
