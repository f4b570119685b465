"""Reads by alias, cached per process and dropped the moment an alias or a version's status
changes (``driftline.runtime.notified_cache``).

Reading a version by alias is what every consumer of the registry does most ("which model is
champion?"); the answer changes only when an alias moves or a pending version is decided.
Both writes notify ``CHANNEL`` in their own transaction, so every replica forgets its cached
answers exactly when the change commits. Cached answers are the response bytes themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from driftline.runtime.notified_cache import NotifiedCache, listen_for_changes
from driftline.runtime.service import ServiceRuntime

CHANNEL = "driftline_registry_aliases"
AliasKey = tuple[str, str]


@dataclass
class RegistryDeps:
    """What the registry's routes share: answers to reads by alias (``None``: no such alias)."""

    by_alias: NotifiedCache[AliasKey, bytes | None] = field(
        default_factory=lambda: NotifiedCache(keep=lambda answer: answer is not None)
    )


def dependencies(_: ServiceRuntime) -> RegistryDeps:
    """A fresh, empty cache (trusted once the listener is connected)."""
    return RegistryDeps()


def background(runtime: ServiceRuntime) -> list[Callable[[], Awaitable[None]]]:
    """The listener that keeps the by-alias cache honest."""
    deps: RegistryDeps = runtime.deps

    async def follow_alias_changes() -> None:
        await listen_for_changes(runtime.engine, CHANNEL, deps.by_alias)

    return [follow_alias_changes]
