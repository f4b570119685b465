"""The audit sink's digest key: generated once per stack home, readable by its owner only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_FILE = "audit-digest.key"


def key_path(home: Path) -> Path:
    """``<home>/audit-digest.key``."""
    return home / KEY_FILE


def ensure_audit_key(home: Path) -> str:
    """The stack's digest key, made (256 random bits, mode 600) on the first call."""
    path = key_path(home)
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another `up` of this home made it a moment ago
            return read_audit_key(home) or ""
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
    return read_audit_key(home) or ""


def read_audit_key(home: Path) -> str | None:
    """The key made by :func:`ensure_audit_key`, or None when this home has none yet."""
    try:
        return key_path(home).read_text().strip() or None
    except FileNotFoundError:
        return None
