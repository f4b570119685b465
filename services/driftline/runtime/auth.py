"""Bearer tokens: who is calling, as the actor and role headers every endpoint reads.

Without configured tokens Driftline trusts ``X-Driftline-Actor`` / ``X-Driftline-Role`` as a
gateway in front of it sets them (the local stack and the demo run this way). With tokens
configured (``DRIFTLINE_AUTH__TOKENS_FILE`` or ``DRIFTLINE_AUTH__TOKENS``) the bearer token is
the only source of identity: actor and role headers a client sends are dropped and replaced
by the token's; an unknown token, or no token on a write, is 401; a viewer writing is 403
(scoring a model is not a write). Endpoints keep their own finer checks (only approvers
approve; an approver never decides on their own model).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftline.runtime.settings import AuthSettings

ROLES = ("viewer", "publisher", "approver", "admin")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SCORING_SUFFIXES = ("/predict", "/infer")
_IDENTITY_HEADERS = (b"x-driftline-actor", b"x-driftline-role")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class Principal:
    """The caller a token stands for."""

    actor: str
    role: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_tokens(text: str) -> dict[str, Principal]:
    """``TOKEN user:NAME ROLE`` entries (one a line or ``;``-separated) → principals by digest."""
    found: dict[str, Principal] = {}
    for entry in text.replace(";", "\n").splitlines():
        if not entry.strip() or entry.lstrip().startswith("#"):
            continue
        parts = entry.split()
        if len(parts) != 3 or parts[2] not in ROLES or not parts[1].startswith("user:"):
            # Never echo the entry: it holds a token.
            raise ValueError("a token entry must read 'TOKEN user:NAME ROLE' with a known role")
        found[_digest(parts[0])] = Principal(actor=parts[1], role=parts[2])
    return found


def load_tokens(settings: AuthSettings) -> dict[str, Principal]:
    """Every configured token (the file, then the variable); empty when auth is off."""
    tokens: dict[str, Principal] = {}
    if settings.tokens_file:
        tokens.update(parse_tokens(Path(settings.tokens_file).read_text()))
    if settings.tokens is not None:
        tokens.update(parse_tokens(settings.tokens.get_secret_value()))
    return tokens


class BearerAuth:
    """ASGI middleware that turns a bearer token into the actor and role headers."""

    def __init__(self, app: ASGIApp, tokens: Mapping[str, Principal]) -> None:
        self.app = app
        self._tokens = dict(tokens)

    def _lookup(self, token: str) -> Principal | None:
        digest = _digest(token)
        match = next((d for d in self._tokens if hmac.compare_digest(d, digest)), None)
        return self._tokens.get(match) if match else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = [(k, v) for k, v in scope["headers"] if k.lower() not in _IDENTITY_HEADERS]
        authorization = next((v for k, v in raw if k.lower() == b"authorization"), None)
        principal = None
        if authorization is not None:
            scheme, _, token = authorization.decode("latin-1").partition(" ")
            principal = self._lookup(token.strip()) if scheme.lower() == "bearer" else None
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
