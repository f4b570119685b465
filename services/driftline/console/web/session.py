"""Browser sign-in: the bearer token lives in an HttpOnly cookie and stands in for the header.

The platform's auth middleware verifies an ``Authorization`` header before the console sees
the request. A browser cannot send that header on a link, so the sign-in page sends the token
once, in the header, to ``GET /session``; the answer stores it in an HttpOnly, SameSite=Strict
cookie. On later requests :class:`CookieIdentity` verifies the cookie's token the same way and
sets the actor and role headers (only when no header identity was given).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any

from driftline.runtime.auth import Principal

COOKIE = "driftline_console_token"
ACTOR, ROLE = b"x-driftline-actor", b"x-driftline-role"
Verifier = Callable[[str], Awaitable[Principal | None]]


def cookie_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The console token from the request's Cookie header, if any."""
    for key, value in headers:
        if key.lower() == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header is no sign-in, not an error
                continue
            if COOKIE in jar:
                return jar[COOKIE].value
    return None


class CookieIdentity:
    """ASGI middleware (inside auth): a verified cookie token becomes the actor/role headers."""

    def __init__(self, app: Any, verify: Verifier | None) -> None:
        self.app = app
        self._verify = verify

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self._verify is not None:
            headers = list(scope["headers"])
            if not any(k.lower() == ACTOR for k, _ in headers):
                token = cookie_token(headers)
                principal = await self._verify(token) if token else None
                if principal is not None:
                    headers += [(ACTOR, principal.actor.encode()), (ROLE, principal.role.encode())]
                    scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)


def cookie_header(token: str, *, secure: bool, max_age: int = 8 * 3600) -> str:
    """The Set-Cookie value that signs a browser in (empty token and max_age 0: out)."""
    flags = f"; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Strict"
    return f"{COOKIE}={token}{flags}{'; Secure' if secure else ''}"
