"""Lineage: follow ``causation_id`` links from an audited event back to its root cause.

Pure functions only. A walk stops at the root, at a parent that is not in the given entries
(reported as ``missing_parent``) or at a cycle (reported as ``cycle_at``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from driftline.audit.core import AuditEntry
from driftline_contracts.events import (
    CanaryRolledBack,
    CanaryStarted,
    CanaryStepAdvanced,
    DataValidated,
    ModelApproved,
    ModelPromoted,
    ModelRegistered,
    ModelRejected,
    ModelTrained,
)

_IDS = ("run_id", "pipeline_run", "canary_id", "drift_id", "batch_id", "spec_hash",
        "submitted_from_run")  # fmt: skip
_LABELS = ("via", "verdict", "severity", "resolution", "trigger", "approval", "trainer")
_PEOPLE = ("approver", "rejected_by")
_MODELS = ("model", "champion", "previous")


class UnknownEventError(LookupError):
    """The event a lineage walk should start from is not in the audit log."""


class LineageStep(BaseModel):
    """One event in a lineage chain, with the facts that matter for provenance."""

    event_id: str = Field(description="CloudEvents id of the event.")
    type: str = Field(description="CloudEvents type, e.g. io.driftline.data.arrived.v1.")
    subject: str = Field(description="Dataset name (data events) or model name.")
    actor: str = Field(description="Who or what acted: service:NAME, user:NAME, pipeline:NAME.")
    time: datetime = Field(description="When it happened.")
    correlation_id: str = Field(description="Lifecycle run the event belongs to.")
    causation_id: str | None = Field(description="Event that caused this one; null at a root.")
    facts: dict[str, Any] = Field(description="Key fields decoded from the payload.")


class Lineage(BaseModel):
    """A causation chain, oldest event first, and why the walk stopped."""

    steps: list[LineageStep] = Field(description="Events from the root cause to the start.")
    missing_parent: str | None = Field(
        None, description="Id of a cause that is not in the audit log, if the walk hit one."
    )
    cycle_at: str | None = Field(
        None, description="Id of an event seen twice, if causation links form a cycle."
    )
    data: list[LineageStep] = Field(
        default_factory=list,
        description="The trained-on dataset version's own chain (arrival to validation) when "
        "the steps do not pass through it: spec-applied and drift retrains start elsewhere.",
    )

    @property
    def complete(self) -> bool:
        """True when the walk reached an event with no cause."""
        return self.missing_parent is None and self.cycle_at is None


def payload_of(entry: AuditEntry) -> dict[str, Any]:
    """The event body as a dict; empty when it is not a JSON object."""
    try:
        data = json.loads(entry.payload)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _model_label(value: Any) -> Any:
    if isinstance(value, dict) and "name" in value:
        return f"{value['name']}@{value.get('version')}"
    return value


def _dataset_facts(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    keys = ("name", "version", "sha256", "uri", "rows")
    return {f"dataset_{k}": value[k] for k in keys if value.get(k) is not None}


def _verdict_facts(data: dict[str, Any]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if isinstance(data.get("gates"), list):
        passed = sum(1 for g in data["gates"] if isinstance(g, dict) and g.get("passed"))
        facts["gates_passed"] = f"{passed}/{len(data['gates'])}"
    reasons = data.get("reasons") or ([data["reason"]] if data.get("reason") else [])
    codes = [r.get("code") for r in reasons if isinstance(r, dict)]
    if codes:
        facts["reasons"] = codes
    if isinstance(data.get("features"), list):
        facts["drifted"] = [
            f.get("feature") for f in data["features"] if isinstance(f, dict) and f.get("drifted")
        ]
    return facts


def key_facts(data: Mapping[str, Any]) -> dict[str, Any]:
    """Provenance facts of any event body: models, data, ids, metrics, verdicts."""
    facts: dict[str, Any] = {k: _model_label(data[k]) for k in _MODELS if data.get(k) is not None}
    facts.update(_dataset_facts(data.get("dataset")))
    facts.update({k: data[k] for k in (*_IDS, *_LABELS, *_PEOPLE) if data.get(k) is not None})
    if isinstance(data.get("artifact"), dict) and data["artifact"].get("sha256"):
        facts["artifact_sha256"] = data["artifact"]["sha256"]
    for name in ("metrics", "performance"):
        if isinstance(data.get(name), dict) and data[name]:
            facts[name] = data[name]
    facts.update(_verdict_facts(dict(data)))
    facts.update(_window_facts(data))
    return facts


def _window_facts(data: Mapping[str, Any]) -> dict[str, Any]:
    """The versions a run trained on (``name@version``) and its labelled production rows."""
    facts: dict[str, Any] = {}
    window = data.get("datasets")
    if isinstance(window, list) and window:
        facts["datasets"] = [
            f"{d.get('name')}@{d.get('version')}" for d in window if isinstance(d, dict)
        ]
    if isinstance(data.get("labelled_rows"), int):
        facts["labelled_rows"] = data["labelled_rows"]
    return facts


def step_of(entry: AuditEntry) -> LineageStep:
    """The lineage step an audit entry stands for."""
    return LineageStep(
        event_id=entry.event_id,
        type=entry.type,
        subject=entry.subject,
        actor=entry.actor,
        time=entry.time,
        correlation_id=entry.correlation_id,
        causation_id=entry.causation_id,
        facts=key_facts(payload_of(entry)),
    )


def lineage_of(entries_by_id: Mapping[str, AuditEntry], start_event_id: str) -> Lineage:
    """Walk causation links from ``start_event_id`` to its root; oldest step first."""
    if start_event_id not in entries_by_id:
        raise UnknownEventError(f"event {start_event_id} is not in the audit log")
    steps: list[LineageStep] = []
    seen: set[str] = set()
    current: str | None = start_event_id
    missing = cycle = None
    while current is not None:
        if current in seen:
            cycle = current
            break
        entry = entries_by_id.get(current)
        if entry is None:
            missing = current
            break
        seen.add(current)
        steps.append(step_of(entry))
        current = entry.causation_id
    return Lineage(steps=steps[::-1], missing_parent=missing, cycle_at=cycle)


VERSION_STAGES = (
    ModelPromoted.ce_type,
    CanaryRolledBack.ce_type,
    CanaryStepAdvanced.ce_type,
    CanaryStarted.ce_type,
    ModelApproved.ce_type,
    ModelRejected.ce_type,
    ModelRegistered.ce_type,
)
"""Events about one model version, the furthest stage first: a lineage starts at the
furthest stage the version reached, so every registered version has one."""


def find_promotion(entries: Iterable[AuditEntry], model: str, version: int) -> AuditEntry | None:
    """The latest ``ModelPromoted`` entry for MODEL@VERSION, or None."""
    return find_version_event(entries, model, version, stages=(ModelPromoted.ce_type,))


def find_version_event(
    entries: Iterable[AuditEntry],
    model: str,
    version: int,
    stages: tuple[str, ...] = VERSION_STAGES,
) -> AuditEntry | None:
    """The newest entry of the furthest stage MODEL@VERSION reached, or None."""
    matches = [
        entry
        for entry in entries
        if entry.type in stages and entry.subject == model and _version_of(entry) == version
    ]
    return min(matches, key=lambda e: (stages.index(e.type), -e.seq), default=None)


def trained_datasets(lineage: Lineage) -> list[tuple[str, int]]:
    """(name, version) of every dataset version the chain's ModelTrained was fitted on: its
    training window when it names one, else its one dataset."""
    trained = next((s for s in lineage.steps if s.type == ModelTrained.ce_type), None)
    if trained is None:
        return []
    window = trained.facts.get("datasets")
    if isinstance(window, list) and window:
        pairs = [str(label).rpartition("@") for label in window]
        return [(name, int(version)) for name, _, version in pairs if version.isdigit()]
    if trained.facts.get("dataset_version") is None:
        return []
    return [(str(trained.facts.get("dataset_name")), int(trained.facts["dataset_version"]))]


def passes_validation_of(lineage: Lineage, dataset: tuple[str, int]) -> bool:
    """Whether the chain already holds the validation of ``dataset`` (name, version)."""
    return any(
        s.type == DataValidated.ce_type
        and (s.facts.get("dataset_name"), s.facts.get("dataset_version")) == dataset
        for s in lineage.steps
    )


def validation_of(entries: Iterable[AuditEntry], dataset: tuple[str, int]) -> AuditEntry | None:
    """The DataValidated entry that accepted ``dataset`` (name, version), or None."""
    name, version = dataset
    return next(
        (
            e
            for e in entries
            if e.type == DataValidated.ce_type
            and e.subject == name
            and _dataset_version_of(e) == version
        ),
        None,
    )


def _version_of(entry: AuditEntry) -> Any:
    model = payload_of(entry).get("model")
    return model.get("version") if isinstance(model, dict) else None


def _dataset_version_of(entry: AuditEntry) -> Any:
    dataset = payload_of(entry).get("dataset")
    return dataset.get("version") if isinstance(dataset, dict) else None
