"""What batch scoring needs from the outside world, by role."""

from __future__ import annotations

from typing import Protocol

from driftline.deployment.records import Deployment


class ServingVersions(Protocol):
    """Who serves a model now: its champion and, during a rollout, the challenger."""

    async def deployment(self, name: str) -> Deployment: ...
