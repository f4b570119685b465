"""The console's reads of other services: readiness, lineage, verification, with its token."""

from __future__ import annotations

import asyncio

import httpx
from pydantic import SecretStr

from driftline.console.adapters.upstream import HttpUpstream
from driftline.console.settings import ConsoleSection


def _upstream(handler, token: str | None = "t0k3n") -> HttpUpstream:  # type: ignore[no-untyped-def]
    section = ConsoleSection(
        service_urls={"audit": "http://audit:1", "registry": "http://registry:2"},
        service_token=SecretStr(token) if token is not None else None,
    )
    return HttpUpstream(section, transport=httpx.MockTransport(handler))


def test_readiness_names_every_other_service_and_why_one_is_down() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == "registry":
            return httpx.Response(503, json={"status": "unavailable", "failing": ["kafka"]})
        if request.url.host == "audit":
            return httpx.Response(200, json={"status": "ready", "failing": []})
        raise httpx.ConnectError("refused", request=request)

    found = asyncio.run(_upstream(answer).readiness())
    assert "console" not in found
    assert found["audit"]["status"] == "ready"
    assert found["registry"] == {"status": "unavailable", "failing": ["kafka"]}
    assert found["ingest"]["status"] == "unreachable"
    assert "http://127.0.0.1:8101/readyz" in seen  # not in service_urls: its default port


def test_lineage_and_verify_send_the_consoles_token() -> None:
    headers: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        headers.append(request.headers.get("authorization"))
        if request.url.path == "/v1/lineage/churn/2":
            return httpx.Response(200, json={"steps": []})
        if request.url.path == "/v1/audit/verify":
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(404, json={"detail": "no"})

    upstream = _upstream(answer)
    assert asyncio.run(upstream.lineage("churn", 2)) == {"steps": []}
    assert asyncio.run(upstream.lineage("churn", 3)) is None
    assert asyncio.run(upstream.verify()) == {"ok": True}
    assert set(headers) == {"Bearer t0k3n"}


def test_no_token_or_an_empty_one_sends_no_authorization_header() -> None:
    headers: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        headers.append(request.headers.get("authorization"))
        return httpx.Response(500, text="boom")

    for token in (None, ""):
        report = asyncio.run(_upstream(answer, token).verify())
        assert report["ok"] is None
        assert "500" in report["error"]
    assert headers == [None, None]


def test_a_decision_is_posted_as_the_approver_not_as_the_console() -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path.endswith("/approve"):
            return httpx.Response(200, json={"status": "approved", "decided_by": "user:a"})
        return httpx.Response(409, json={"detail": "the approver trained it"})

    upstream = _upstream(answer)
    ok = asyncio.run(upstream.decide("churn", 2, "approve", "fine", "Bearer approver-token"))
    refused = asyncio.run(upstream.decide("churn", 2, "reject", None, "Bearer approver-token"))
    assert ok == (200, "approved")
    assert refused == (409, "the approver trained it")
    assert str(sent[0].url) == "http://registry:2/v1/models/churn/versions/2/approve"
    assert sent[0].headers["authorization"] == "Bearer approver-token"
    assert sent[0].content == b'{"comment":"fine"}'
