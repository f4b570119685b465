"""Fault-injection points for the reliability tests; inert unless a test installs a hook.

Production code calls :func:`point` at the moments a crash is most dangerous (an outbox
batch read but not published, published but not marked, an effect done but not committed).
Nothing in configuration can install a hook: only code that assigns :data:`hook` (the
tests in ``tests/reliability``) can, so an unused point costs one ``None`` check.
"""

from __future__ import annotations

from collections.abc import Callable

hook: Callable[[str], None] | None = None
"""Called with the point's name; raise from it to simulate a crash at that point."""


def point(name: str) -> None:
    """Mark a crash point named ``name``."""
    if hook is not None:
        hook(name)
