"""Which bearer token a CLI command sends: ``--token``, else ``$DRIFTLINE_TOKEN``, else the
local stack's token of the role the command needs (``<home>/auth-tokens``), else none."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

TOKEN_VAR = "DRIFTLINE_TOKEN"


def stack_token(role: str, home: Path | None = None) -> str | None:
    """The local stack's token of ``role``, or None when there is no readable tokens file."""
    from driftline.runtime.settings import driftline_home
    from driftline.stack.tokens import role_tokens, tokens_path

    try:
        return role_tokens(tokens_path(home or driftline_home())).get(role)
    except OSError:
        return None


def bearer_token(
    role: str,
    explicit: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> str | None:
    """The token to send for a command that needs ``role``."""
    env = os.environ if environ is None else environ
    return explicit or env.get(TOKEN_VAR) or stack_token(role, home)


def auth_headers(
    role: str,
    explicit: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> dict[str, str]:
    """``Authorization: Bearer …`` for ``role``, or no header when no token is found."""
    token = bearer_token(role, explicit, environ=environ, home=home)
    return {"Authorization": f"Bearer {token}"} if token else {}


TOKEN_HELP = f"Bearer token. Default: ${TOKEN_VAR}, else the local stack's token for the role."
