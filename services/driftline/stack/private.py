"""Keep the stack's files from other OS users (such as the user training processes run as)."""

from __future__ import annotations

from pathlib import Path

PRIVATE_FOLDERS = ("s3", "logs")
"""The object store's files (datasets, models, the broker's log) and the services' logs."""


def keep_private(home: Path) -> None:
    """Let other users only pass through ``home`` (PostgreSQL, run as its own user under root,
    must reach ``pg/``), never list it or read the object store's files or the logs."""
    home.chmod(0o711)
    for name in PRIVATE_FOLDERS:
        folder = home / name
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)
