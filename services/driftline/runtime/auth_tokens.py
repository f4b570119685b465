"""Static bearer tokens: ``TOKEN user:NAME ROLE`` entries, kept only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from driftline.runtime.settings import AuthSettings

ROLES = ("viewer", "publisher", "approver", "admin")
"""Every role, weakest first (an identity provider's list of roles yields the strongest)."""


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
    """Every configured token (the file, then the variable); empty when none is configured."""
    tokens: dict[str, Principal] = {}
    if settings.tokens_file:
        tokens.update(parse_tokens(Path(settings.tokens_file).read_text()))
    if settings.tokens is not None:
        tokens.update(parse_tokens(settings.tokens.get_secret_value()))
    return tokens


class StaticTokens:
    """Looks a token up among the configured digests (compared in constant time)."""

    def __init__(self, tokens: Mapping[str, Principal]) -> None:
        self._tokens = dict(tokens)

    async def __call__(self, token: str) -> Principal | None:
        """The principal of ``token``, or None when it is not one of ours."""
        digest = _digest(token)
        match = next((d for d in self._tokens if hmac.compare_digest(d, digest)), None)
        return self._tokens.get(match) if match else None
