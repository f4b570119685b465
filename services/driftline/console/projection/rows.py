"""The read model's row changes, and the helpers every projection builds them with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Data = dict[str, Any]


class UnprojectableEventError(ValueError):
    """A known event type whose payload lacks what its contract promises."""


@dataclass(frozen=True)
class AuditedEvent:
    """One entry of the audit stream: the envelope's attributes and the decoded body."""

    id: str
    type: str
    subject: str
    actor: str
    time: datetime
    data: Data = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """Upsert one row of ``table`` by ``key``; ``None`` values leave the column as it is."""

    table: str
    key: dict[str, Any]
    values: dict[str, Any]


def version_row(e: AuditedEvent, **values: Any) -> Change:
    model = e.data["model"]
    return Change("versions", {"model": model["name"], "version": model["version"]}, values)


def model_row(name: str, **values: Any) -> Change:
    return Change("models", {"name": name}, values)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)
