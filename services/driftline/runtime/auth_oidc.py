"""OIDC bearer tokens: JWTs signed by an identity provider, checked against its JWKS.

The key set is fetched on first use (never at import), reused for ``jwks_cache_s`` and fetched
again early when a token names a key id we do not know (the provider rotated its keys), at
most once every ``REFETCH_MIN_S``. A token is accepted only with a good signature by one of
those keys, an allowed algorithm, the configured issuer and audience, an ``exp`` in the future
and a known Driftline role in the role claim.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import structlog
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from driftline.runtime.auth_tokens import ROLES, Principal
from driftline.runtime.settings import OidcSettings

log = structlog.get_logger(__name__)

JwksFetcher = Callable[[], Awaitable[dict[str, Any]]]
REFETCH_MIN_S = 30.0
_ACTOR = re.compile(r"[A-Za-z0-9@._/-]{1,127}")
_UNSAFE_ALGORITHMS = frozenset({"none", "HS256", "HS384", "HS512"})


class OidcConfigError(ValueError):
    """The OIDC settings are incomplete or unsafe."""


def http_jwks_fetcher(url: str, timeout_s: float) -> JwksFetcher:
    """A fetcher that GETs the key set from ``url`` with a timeout."""

    async def fetch() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.get(url)
            response.raise_for_status()
            return dict(response.json())

    return fetch


def strongest_role(claim: object) -> str | None:
    """The role a claim grants: itself if a known role, else the strongest known one listed."""
    listed = [claim] if isinstance(claim, str) else claim if isinstance(claim, list) else []
    known = [role for role in ROLES if role in listed]
    return known[-1] if known else None


class OidcVerifier:
    """Turns a provider-signed JWT into a principal, or None when it is not acceptable."""

    def __init__(
        self,
        settings: OidcSettings,
        fetch: JwksFetcher | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not settings.enabled or not settings.audience:
            raise OidcConfigError("OIDC needs issuer, audience and jwks_url")
        if unsafe := _UNSAFE_ALGORITHMS.intersection(settings.algorithms):
            raise OidcConfigError(f"OIDC algorithms must be asymmetric, not {sorted(unsafe)}")
        self._settings = settings
        self._fetch = fetch or http_jwks_fetcher(str(settings.jwks_url), settings.jwks_timeout_s)
        self._clock = clock
        self._keys: KeySet | None = None
        self._expires_at = self._retry_after = float("-inf")
        self._lock = asyncio.Lock()
        self._claims = jwt.JWTClaimsRegistry(
            leeway=settings.leeway_s,
            iss={"essential": True, "value": str(settings.issuer)},
            aud={"essential": True, "value": str(settings.audience)},
            exp={"essential": True},
        )

    async def __call__(self, token: str) -> Principal | None:
        """The principal the token names, or None (bad signature, claims, or no key set)."""
        claims = self._verified_claims(token, await self._key_set(refresh=False))
        if claims is None:  # perhaps signed with a key the provider added since our fetch
            claims = self._verified_claims(token, await self._key_set(refresh=True))
        return self._principal(claims) if claims is not None else None

    def _verified_claims(self, token: str, keys: KeySet | None) -> dict[str, Any] | None:
        if keys is None:
            return None
        try:
            decoded = jwt.decode(token, keys, algorithms=self._settings.algorithms)
            self._claims.validate(decoded.claims)
        except (JoseError, ValueError, TypeError, KeyError):
            return None
        return dict(decoded.claims)

    def _principal(self, claims: dict[str, Any]) -> Principal | None:
        role = strongest_role(claims.get(self._settings.role_claim))
        name = claims.get(self._settings.actor_claim)
        if role is None or not isinstance(name, str) or not _ACTOR.fullmatch(name):
            return None
        return Principal(actor=f"user:{name}", role=role)

    async def _key_set(self, *, refresh: bool) -> KeySet | None:
        """The cached key set; fetched when missing, expired or ``refresh`` asks (rate-limited)."""
        async with self._lock:
            now = self._clock()
            if self._keys is not None and now < self._expires_at and not refresh:
                return self._keys
            if now < self._retry_after:
                return self._keys
            self._retry_after = now + REFETCH_MIN_S
            try:
                keys = await self._fetch()  # untrusted JSON: a bad shape raises, caught below
                self._keys = KeySet.import_key_set(keys)  # type: ignore[arg-type]  # checked by it
            except (httpx.HTTPError, JoseError, ValueError, TypeError, KeyError) as exc:
                log.warning("oidc.jwks_fetch_failed", error=str(exc)[:200])
                return self._keys  # keep using the last good keys while the provider is away
            self._expires_at = now + self._settings.jwks_cache_s
            return self._keys
