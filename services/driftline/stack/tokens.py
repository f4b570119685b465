"""The local stack's bearer tokens: one per role, in ``<home>/auth-tokens`` (mode 600).

``driftline stack up`` writes the file once per home (later starts keep it) and every service
the stack starts reads it (``DRIFTLINE_AUTH__TOKENS_FILE``). The CLI and the demo read the
same file to pick the token of the role a command needs, so nobody types a token locally.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TOKENS_FILE = "auth-tokens"
TOKENS_VAR = "DRIFTLINE_AUTH__TOKENS_FILE"
STACK_PRINCIPALS = {
    "viewer": "user:viewer",
    "publisher": "user:publisher",
    "approver": "user:approver",  # never the publisher: approvers may not decide on their own
    "admin": "user:admin",
}
"""The actor each role's token stands for."""


def tokens_path(home: Path) -> Path:
    """Where the stack in ``home`` keeps its tokens."""
    return Path(home) / TOKENS_FILE


def role_tokens(path: Path) -> dict[str, str]:
    """role → token from a ``TOKEN user:NAME ROLE`` file (the first entry of each role)."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and not parts[0].startswith("#"):
            found.setdefault(parts[2], parts[0])
    return found


def ensure_tokens(home: Path) -> Path:
    """Write a token for every role unless the file already has them; owner-only either way."""
    path = tokens_path(home)
    if path.exists() and set(STACK_PRINCIPALS) <= set(role_tokens(path)):
        path.chmod(0o600)
        return path
    lines = ["# Bearer tokens of this local stack, written by driftline stack up. Keep private.\n"]
    lines += [f"{secrets.token_urlsafe(32)} {actor} {role}\n"
              for role, actor in STACK_PRINCIPALS.items()]  # fmt: skip
    home.mkdir(parents=True, exist_ok=True)
    tmp = home / f".{TOKENS_FILE}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a leftover temp file keeps its mode through O_TRUNC
    with os.fdopen(fd, "w") as out:
        out.write("".join(lines))
    os.replace(tmp, path)
    return path
