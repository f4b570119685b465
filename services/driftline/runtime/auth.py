"""Who is calling: every HTTP request gets its actor and role from a verified bearer token.

A service chooses exactly one way, and refuses to start without one (``AuthNotConfiguredError``):

- **bearer** (the default way; ``driftline stack up`` writes a tokens file for it): static
  tokens (``DRIFTLINE_AUTH__TOKENS_FILE`` / ``DRIFTLINE_AUTH__TOKENS``) and/or JWTs of an OIDC
  provider (``DRIFTLINE_AUTH__OIDC__*``). Actor and role headers a client sends are dropped and
  replaced by the token's; an unknown token, or no token on a write, is 401; a viewer writing
  is 403 (scoring a model is not a write).
- **gateway** (``DRIFTLINE_AUTH__TRUST_GATEWAY_HEADERS=true``): an authenticating proxy in front
  sets ``X-Driftline-Actor`` / ``X-Driftline-Role``; they are trusted as sent.
- **anonymous** (``DRIFTLINE_AUTH__DISABLED=true``): no authentication; identity headers are
  dropped, so every caller is anonymous: writes are open, but nothing that needs a named
  approver (approve, promote, roll back) can be done.

The last two are logged as warnings at every start. Endpoints keep their own finer checks
(only approvers approve; an approver never decides on their own model).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal

from driftline.runtime.auth_oidc import JwksFetcher, OidcVerifier
from driftline.runtime.auth_tokens import ROLES, Principal, StaticTokens, load_tokens
from driftline.runtime.settings import AuthSettings

__all__ = ["ROLES", "AuthLayer", "AuthNotConfiguredError", "Principal", "auth_layer"]

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SCORING_SUFFIXES = ("/predict", "/infer")
_IDENTITY_HEADERS = (b"x-driftline-actor", b"x-driftline-role")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Verifier = Callable[[str], Awaitable[Principal | None]]

NOT_CONFIGURED = (
    "no authentication configured: set DRIFTLINE_AUTH__TOKENS_FILE (`driftline stack up` "
    "writes one in the stack home) or DRIFTLINE_AUTH__OIDC__ISSUER/AUDIENCE/JWKS_URL; only "
    "behind an authenticating gateway set DRIFTLINE_AUTH__TRUST_GATEWAY_HEADERS=true, and "
    "only for a throw-away experiment DRIFTLINE_AUTH__DISABLED=true"
)


class AuthNotConfiguredError(RuntimeError):
    """The service was given no way, or contradicting ways, to know who calls it."""


@dataclass(frozen=True)
class AuthLayer:
    """How a service learns who calls it: the mode and the ASGI middleware that does it."""

    mode: Literal["bearer", "gateway", "anonymous"]
    middleware: type | None = None
    options: dict[str, Any] = field(default_factory=dict)


def _verifier(settings: AuthSettings, fetch_jwks: JwksFetcher | None) -> Verifier | None:
    """Static tokens first, then the identity provider's JWTs; None when neither is set."""
    tokens = load_tokens(settings)
    static = StaticTokens(tokens) if tokens else None
    oidc = OidcVerifier(settings.oidc, fetch_jwks) if settings.oidc.enabled else None
    if static is None and oidc is None:
        return None

    async def verify(token: str) -> Principal | None:
        found = await static(token) if static else None
        if found is None and oidc is not None and token.count(".") == 2:
            found = await oidc(token)
        return found

    return verify


def auth_layer(settings: AuthSettings, fetch_jwks: JwksFetcher | None = None) -> AuthLayer:
    """The one way ``settings`` choose to authenticate callers; raises when none or several."""
    verify = _verifier(settings, fetch_jwks)
    chosen = [verify is not None, settings.trust_gateway_headers, settings.disabled]
    if sum(chosen) > 1:
        raise AuthNotConfiguredError(
            "choose one of bearer tokens/OIDC, DRIFTLINE_AUTH__TRUST_GATEWAY_HEADERS and "
            "DRIFTLINE_AUTH__DISABLED"
        )
    if verify is not None:
        return AuthLayer("bearer", BearerAuth, {"verify": verify})
    if settings.trust_gateway_headers:
        return AuthLayer("gateway")
    if settings.disabled:
        return AuthLayer("anonymous", AnonymousAccess)
    raise AuthNotConfiguredError(NOT_CONFIGURED)


def _without_identity(scope: Scope) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in scope["headers"] if k.lower() not in _IDENTITY_HEADERS]


class AnonymousAccess:
    """ASGI middleware for disabled auth: drops identity headers, so nobody claims a role."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "headers": _without_identity(scope)}
        await self.app(scope, receive, send)


class BearerAuth:
    """ASGI middleware that turns a bearer token into the actor and role headers."""

    def __init__(self, app: ASGIApp, verify: Verifier) -> None:
        self.app = app
        self._verify = verify

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = _without_identity(scope)
        authorization = next((v for k, v in raw if k.lower() == b"authorization"), None)
        principal = None
        if authorization is not None:
            scheme, _, token = authorization.decode("latin-1").partition(" ")
            principal = await self._verify(token.strip()) if scheme.lower() == "bearer" else None
            if principal is None:
                await _deny(send, 401, "unknown or malformed bearer token")
                return
        if scope["method"] not in READ_METHODS:
            if principal is None:
                await _deny(send, 401, "this operation needs Authorization: Bearer <token>")
                return
            if principal.role == "viewer" and not scope["path"].endswith(SCORING_SUFFIXES):
                await _deny(send, 403, "the viewer role may only read")
                return
        if principal is not None:
            raw += [(b"x-driftline-actor", principal.actor.encode()),
                    (b"x-driftline-role", principal.role.encode())]  # fmt: skip
        await self.app({**scope, "headers": raw}, receive, send)


async def _deny(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="driftline"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
