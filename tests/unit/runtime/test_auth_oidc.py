"""OIDC JWTs: accepted only when signed by the provider's published keys with the right
issuer, audience, expiry and a Driftline role; keys are fetched lazily, cached, refreshed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from driftline.runtime.auth_oidc import OidcConfigError, OidcVerifier, strongest_role
from driftline.runtime.auth_tokens import Principal
from driftline.runtime.http import build_http_app
from driftline.runtime.service import ServiceDefinition, ServiceRuntime
from driftline.runtime.settings import OidcSettings, RuntimeSettings

ISSUER, AUDIENCE = "https://idp.example.test/", "driftline"
SETTINGS = OidcSettings(issuer=ISSUER, audience=AUDIENCE, jwks_url="http://127.0.0.1:9/none")
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # same kid, not published


class Provider:
    """Publishes a key set and counts how often it was fetched."""

    def __init__(self, *keys: RSAKey) -> None:
        self.keys = list(keys)
        self.fetches = 0

    async def __call__(self) -> dict[str, Any]:
        self.fetches += 1
        return KeySet(self.keys).as_dict(private=False)


def token(key: RSAKey = KEY, alg: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "exp": now + 300, "iat": now,
            "driftline_role": "approver", **claims}  # fmt: skip
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": key.kid}, body, key)


async def test_a_provider_signed_token_names_the_user_and_role() -> None:
    verify = OidcVerifier(SETTINGS, Provider(KEY))
    assert await verify(token()) == Principal("user:alice", "approver")


@pytest.mark.parametrize(
    "bad",
    [
        {"iss": "https://evil.example.test/"},
        {"aud": "someone-else"},
        {"exp": int(time.time()) - 3600},
        {"exp": None},
        {"driftline_role": None},
        {"driftline_role": "superuser"},
        {"sub": "alice bob"},
    ],
)
async def test_wrong_claims_are_refused(bad: dict[str, Any]) -> None:
    assert await OidcVerifier(SETTINGS, Provider(KEY))(token(**bad)) is None


async def test_a_token_signed_by_another_key_is_refused() -> None:
    assert await OidcVerifier(SETTINGS, Provider(KEY))(token(OTHER)) is None


async def test_an_hmac_token_made_with_the_public_key_is_refused() -> None:
    """The classic algorithm confusion: HS256 keyed with the provider's public key."""

    def part(value: dict[str, Any]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "eve", "exp": int(time.time()) + 60,
              "driftline_role": "admin"}  # fmt: skip
    signed = part({"alg": "HS256", "kid": "k1"}) + b"." + part(claims)
    mac = hmac.new(KEY.as_pem(private=False), signed, hashlib.sha256).digest()
    forged = (signed + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
    assert await OidcVerifier(SETTINGS, Provider(KEY))(forged) is None


def test_unsafe_or_incomplete_settings_are_refused() -> None:
    with pytest.raises(OidcConfigError):
        OidcVerifier(SETTINGS.model_copy(update={"algorithms": ["RS256", "HS256"]}))
    with pytest.raises(OidcConfigError):
        OidcVerifier(SETTINGS.model_copy(update={"audience": None}))


async def test_keys_are_fetched_on_first_use_and_cached() -> None:
    provider = Provider(KEY)
    verify = OidcVerifier(SETTINGS, provider)
    assert provider.fetches == 0  # nothing at construction
    for _ in range(3):
        assert await verify(token()) is not None
    assert provider.fetches == 1


async def test_a_rotated_key_is_fetched_again_but_not_more_than_twice_a_minute() -> None:
    now = [1000.0]
    provider = Provider(KEY)
    verify = OidcVerifier(SETTINGS, provider, clock=lambda: now[0])
    assert await verify(token()) is not None
    new = RSAKey.generate_key(2048, parameters={"kid": "k2"})
    provider.keys.append(new)
    assert await verify(token(new)) is None  # within 30 s of the last fetch: no new fetch
    now[0] += 31
    assert await verify(token(new)) == Principal("user:alice", "approver")
    assert provider.fetches == 2


async def test_an_unreachable_provider_means_401_not_a_crash() -> None:
    async def down() -> dict[str, Any]:
        raise httpx.ConnectError("refused")

    assert await OidcVerifier(SETTINGS, down)(token()) is None


def test_a_list_of_roles_grants_the_strongest_known_one() -> None:
    assert strongest_role(["viewer", "approver", "cook"]) == "approver"
    assert strongest_role("publisher") == "publisher"
    assert strongest_role(["cook"]) is None
    assert strongest_role({"admin": True}) is None


@pytest.fixture
def jwks_url() -> Iterator[str]:
    """The provider's key set served over HTTP on a loopback port."""
    body = json.dumps(KeySet([KEY]).as_dict(private=False)).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks"
    server.shutdown()


async def test_the_service_accepts_provider_tokens_fetched_over_http(jwks_url: str) -> None:
    def who(_: ServiceRuntime) -> list[APIRouter]:
        router = APIRouter()

        @router.post("/v1/specs")
        async def specs(request: Request) -> dict[str, str | None]:
            return {"actor": request.headers.get("x-driftline-actor")}

        return [router]

    oidc = SETTINGS.model_copy(update={"jwks_url": jwks_url}).model_dump()
    settings = RuntimeSettings.model_validate({"auth": {"oidc": oidc}})
    app = build_http_app(ServiceRuntime(ServiceDefinition(name="probe", routers=who), settings))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        good = await client.post("/v1/specs", headers={"Authorization": f"Bearer {token()}"})
        bad = await client.post("/v1/specs", headers={"Authorization": f"Bearer {token(OTHER)}"})
    assert good.json() == {"actor": "user:alice"}
    assert bad.status_code == 401
