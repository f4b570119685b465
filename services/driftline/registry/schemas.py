"""Request and response bodies of the registry HTTP API, and its request headers."""

from __future__ import annotations

import re
from typing import Literal

from fastapi import Path
from pydantic import BaseModel, Field

from driftline.registry.models import Alias, ModelVersion, Rollback, SpecRecord
from driftline_contracts.values import SLUG_PATTERN

ModelName = Path(pattern=SLUG_PATTERN, description="Model name (slug).")
VersionNumber = Path(ge=1, description="Version number, from 1.")
ACTOR_HEADER, ROLE_HEADER = "X-Driftline-Actor", "X-Driftline-Role"
ANONYMOUS = "user:anonymous"
_USER_ACTOR = re.compile(r"user:[A-Za-z0-9@._/-]{1,127}")


def user_actor(header: str | None) -> str:
    """The acting user from the actor header; ValueError naming the header otherwise."""
    if not header:
        return ANONYMOUS
    if not _USER_ACTOR.fullmatch(header):
        raise ValueError(f"{ACTOR_HEADER} must look like user:NAME, not {header[:140]!r}")
    return header


class SpecApplied(SpecRecord):
    """Outcome of applying a spec: a new spec version, or the unchanged latest one."""

    status: Literal["applied", "unchanged"] = Field(description="applied (201) or unchanged (200).")


class ModelSummary(BaseModel):
    """A model: its spec, how many versions it has and which one serves."""

    name: str = Field(description="Model name.")
    spec_version: int | None = Field(None, description="Newest spec version.")
    spec_hash: str | None = Field(None, description="Hash of the newest spec.")
    versions: int = Field(0, description="Registered versions.")
    latest_version: int | None = Field(None, description="Newest version number.")
    champion: int | None = Field(None, description="Version in production, if any.")


class ModelDetail(ModelSummary):
    """A model with its newest spec, aliases and rolled-back canaries."""

    spec: SpecRecord | None = Field(None, description="Newest applied spec.")
    aliases: list[Alias] = Field(default_factory=list, description="champion, previous.")
    rollbacks: list[Rollback] = Field(default_factory=list, description="Rolled-back canaries.")


class VersionDetail(ModelVersion):
    """One version: lineage, metrics, gates, status, the aliases on it and its rollbacks."""

    aliases: list[str] = Field(default_factory=list, description="Aliases pointing here.")
    rollbacks: list[Rollback] = Field(default_factory=list, description="Its rolled-back canaries.")


class DecisionIn(BaseModel):
    """An approver's optional note."""

    comment: str | None = Field(None, max_length=2000, description="Why approved or rejected.")


class OverrideIn(BaseModel):
    """Why an approver approves a version over its failed gates (required, kept and audited)."""

    reason: str = Field(min_length=1, max_length=1500, description="Why the gates are wrong here.")


class DecisionOut(BaseModel):
    """The version after a person's decision and the event that announced it."""

    model: str = Field(description="Model name.")
    version: int = Field(description="Version decided.")
    status: Literal["approved", "rejected"] = Field(description="New status.")
    decided_by: str = Field(description="The approver, user:NAME.")
    event_id: str = Field(description="Id of the ModelApproved or ModelRejected event.")
