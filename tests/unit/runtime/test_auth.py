"""Who may call what: a service without a chosen way to authenticate does not start; role
headers grant nothing unless a gateway is explicitly trusted; tokens decide every write."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Request
from pydantic import SecretStr
from structlog.testing import capture_logs
from typer.testing import CliRunner

from driftline.cli.main import app as cli
from driftline.runtime.auth import AuthNotConfiguredError, auth_layer
from driftline.runtime.http import build_http_app
from driftline.runtime.service import ServiceDefinition, ServiceRuntime
from driftline.runtime.settings import AuthSettings, RuntimeSettings

TOKENS = "tok-view user:vera viewer; tok-pub user:paul publisher; tok-appr user:anna approver"
FORGED = {"X-Driftline-Actor": "user:mallory", "X-Driftline-Role": "approver"}


def _echo_router(_: ServiceRuntime) -> list[APIRouter]:
    router = APIRouter()

    async def who(request: Request) -> dict[str, str | None]:
        return {h: request.headers.get(f"x-driftline-{h}") for h in ("actor", "role")}

    for path in ("/v1/models/m/versions/1/approve", "/v1/models/m/feedback",
                 "/v1/models/m/predict"):  # fmt: skip
        router.add_api_route(path, who, methods=["POST"])
    router.add_api_route("/v1/models", who, methods=["GET"])
    return [router]


def _app(auth: dict[str, object]):  # type: ignore[no-untyped-def]
    settings = RuntimeSettings.model_validate({"auth": auth})
    definition = ServiceDefinition(name="probe", routers=_echo_router)
    return build_http_app(ServiceRuntime(definition, settings))


@pytest.fixture
async def bearer() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app({"tokens": TOKENS}))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_service_without_a_chosen_way_to_authenticate_refuses_to_start() -> None:
    with pytest.raises(AuthNotConfiguredError, match="DRIFTLINE_AUTH__TOKENS_FILE"):
        _app({})


def test_two_ways_at_once_are_refused() -> None:
    with pytest.raises(AuthNotConfiguredError, match="choose one"):
        auth_layer(AuthSettings(tokens=SecretStr("t user:a admin"), disabled=True))
    with pytest.raises(AuthNotConfiguredError, match="choose one"):
        auth_layer(AuthSettings(trust_gateway_headers=True, disabled=True))


async def test_forged_role_headers_without_a_token_cannot_approve(
    bearer: httpx.AsyncClient,
) -> None:
    response = await bearer.post("/v1/models/m/versions/1/approve", headers=FORGED)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_token_overrides_forged_identity_headers(bearer: httpx.AsyncClient) -> None:
    answer = await bearer.post(
        "/v1/models/m/versions/1/approve", headers={**FORGED, **_as("tok-pub")}
    )
    assert answer.json() == {"actor": "user:paul", "role": "publisher"}


async def test_unknown_or_malformed_tokens_are_401(bearer: httpx.AsyncClient) -> None:
    for authorization in ("Bearer nope", "Basic dG9rLXB1Yjo=", "Bearer", "tok-pub"):
        response = await bearer.get("/v1/models", headers={"Authorization": authorization})
        assert response.status_code == 401, authorization


async def test_anonymous_feedback_is_401_and_a_viewers_is_403(bearer: httpx.AsyncClient) -> None:
    labels = {"labels": {"r1": 1}}
    assert (await bearer.post("/v1/models/m/feedback", json=labels)).status_code == 401
    viewer = await bearer.post("/v1/models/m/feedback", json=labels, headers=_as("tok-view"))
    assert viewer.status_code == 403
    publisher = await bearer.post("/v1/models/m/feedback", json=labels, headers=_as("tok-pub"))
    assert publisher.json() == {"actor": "user:paul", "role": "publisher"}


async def test_a_viewer_may_score_and_read_but_anonymous_scoring_is_401(
    bearer: httpx.AsyncClient,
) -> None:
    assert (await bearer.post("/v1/models/m/predict")).status_code == 401
    scored = await bearer.post("/v1/models/m/predict", headers=_as("tok-view"))
    assert scored.json()["role"] == "viewer"
    read = await bearer.get("/v1/models", headers=FORGED)  # reads are open, identity is not
    assert read.json() == {"actor": None, "role": None}


async def test_disabled_auth_drops_role_headers_and_warns_at_start() -> None:
    with capture_logs() as logs:
        app = _app({"disabled": True})
    assert [e["mode"] for e in logs if e["event"] == "auth.unsafe_mode"] == ["anonymous"]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.post("/v1/models/m/versions/1/approve", headers=FORGED)
    assert answer.json() == {"actor": None, "role": None}  # nobody can claim approver


async def test_trusted_gateway_headers_pass_as_sent_and_warn_at_start() -> None:
    with capture_logs() as logs:
        app = _app({"trust_gateway_headers": True})
    assert [e["log_level"] for e in logs if e["event"] == "auth.unsafe_mode"] == ["warning"]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.post("/v1/models/m/versions/1/approve", headers=FORGED)
    assert answer.json() == {"actor": "user:mallory", "role": "approver"}


def test_bearer_mode_logs_no_warning() -> None:
    with capture_logs() as logs:
        _app({"tokens": TOKENS})
    assert not [e for e in logs if e["event"] == "auth.unsafe_mode"]


def test_driftline_serve_without_auth_settings_exits_2_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("DRIFTLINE_AUTH__")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DRIFTLINE_HOME", str(tmp_path))  # no stack.env, so no tokens file
    result = CliRunner().invoke(cli, ["serve", "registry", "--port", "0"])
    assert result.exit_code == 2
    assert "DRIFTLINE_AUTH__TOKENS_FILE" in result.output
    assert "DRIFTLINE_AUTH__DISABLED" in result.output
