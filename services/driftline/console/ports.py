"""What the pages need: the read model's queries and the other services' HTTP answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

Row = dict[str, Any]


class ReadModel(Protocol):
    """Queries over the console's projection of the audit stream."""

    async def models(self, name: str | None, offset: int, limit: int) -> list[Row]:
        """Models (name contains ``name``), by name."""
        ...

    async def model(self, name: str) -> Row | None:
        """One model's summary row."""
        ...

    async def versions(self, model: str) -> list[Row]:
        """Every version of ``model``, newest first."""
        ...

    async def rollout_steps(self, model: str) -> list[Row]:
        """Every canary step of ``model``, oldest first."""
        ...

    async def drift_windows(self, model: str, feature: str | None, limit: int) -> list[Row]:
        """The newest ``limit`` windows of ``model`` (one feature or all), oldest first."""
        ...

    async def drift_episodes(self, model: str) -> list[Row]:
        """Drift episodes of ``model``, newest first."""
        ...

    async def datasets(
        self, name: str | None, verdict: str | None, offset: int, limit: int
    ) -> list[Row]:
        """Dataset verdicts, newest first."""
        ...

    async def runs(self, model: str | None, offset: int, limit: int) -> list[Row]:
        """Training runs, newest first."""
        ...

    async def runs_by_id(self, run_ids: Sequence[str]) -> list[Row]:
        """The named runs, in the order asked."""
        ...

    async def dataset_version(self, name: str, version: int) -> Row | None:
        """The accepted verdict of dataset ``name`` version ``version``, if projected."""
        ...

    async def events(
        self, filters: dict[str, str], after: int, offset: int, limit: int
    ) -> list[Row]:
        """Feed entries matching ``filters`` (type/subject/actor substrings), newest first;
        ``after`` > 0: only entries past that position, oldest first."""
        ...


class Upstream(Protocol):
    """The other services' public HTTP APIs, as the console reads them."""

    async def close(self) -> None:
        """Release connections."""
        ...

    async def readiness(self) -> dict[str, Row]:
        """Service name → its ``/readyz`` answer (status ``unreachable`` when none)."""
        ...

    async def lineage(self, model: str, version: int) -> Row | None:
        """The audit service's lineage of one version, or None when it does not know it."""
        ...

    async def verify(self) -> Row:
        """The audit service's verification of its chain."""
        ...

    async def decide(
        self, model: str, version: int, decision: str, comment: str | None, authorization: str
    ) -> tuple[int, str]:
        """Approve or reject a version at the registry as the caller (their own token):
        (status, detail)."""
        ...

    async def write(
        self, service: str, path: str, body: Row, authorization: str
    ) -> tuple[int, str]:
        """POST ``body`` to ``service``'s ``path`` as the caller (their own token):
        (status, detail); 502 when the service does not answer."""
        ...

    async def drift_windows(self, model: str, limit: int) -> tuple[list[Row], str | None]:
        """Monitoring's evaluated windows of ``model``, newest first, and why none (if so)."""
        ...

    async def window_report(self, model: str, seq: int) -> Row | None:
        """Monitoring's JSON report of one window (with its distributions), or None."""
        ...


class Artifacts(Protocol):
    """Objects other services published, addressed by an event's artifact reference."""

    async def json_document(self, uri: str, sha256: str | None) -> Row | None:
        """The JSON object at ``uri`` (checked against ``sha256``), or None if unreadable."""
        ...
