"""The console's read model as pure functions: one audited event → the row changes it makes.

Each :class:`Change` upserts one row by its key; a value of ``None`` keeps what the row holds
(events about one model arrive in order, each filling in the columns it knows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from driftline_contracts.events import (
    CanaryRolledBack,
    CanaryStarted,
    CanaryStepAdvanced,
    DataRejected,
    DataValidated,
    DriftDetected,
    DriftResolved,
    ModelApproved,
    ModelPromoted,
    ModelRegistered,
    ModelRejected,
    ModelTrained,
    TrainingFailed,
    TrainingStarted,
)

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


def _version(e: AuditedEvent, **values: Any) -> Change:
    model = e.data["model"]
    return Change("versions", {"model": model["name"], "version": model["version"]}, values)


def _model(name: str, **values: Any) -> Change:
    return Change("models", {"name": name}, values)


def _registered(e: AuditedEvent) -> list[Change]:
    d = e.data
    return [
        _version(
            e,
            status="registered",
            run_id=d["run_id"],
            dataset=d["dataset"],
            metrics=d["metrics"],
            approval=d["approval"],
            trainer=d["trainer"],
            registered_at=e.time,
        ),
        Change(
            "runs",
            {"run_id": d["run_id"]},
            {"model": d["model"]["name"], "version": d["model"]["version"]},
        ),
    ]


def _approved(e: AuditedEvent) -> list[Change]:
    d = e.data
    return [
        _version(
            e,
            status="approved",
            gates=d["gates"],
            decided_by=d["approver"],
            comment=d.get("comment"),
            decided_at=e.time,
        )
    ]


def _rejected(e: AuditedEvent) -> list[Change]:
    d = e.data
    return [
        _version(
            e,
            status="rejected",
            gates=d["gates"],
            decided_by=d["rejected_by"],
            reasons=d["reasons"],
            decided_at=e.time,
        )
    ]


def _step(e: AuditedEvent, kind: str, step: int, share: float, verdict: str | None) -> Change:
    d = e.data
    return Change(
        "rollout_steps",
        {"event_id": e.id},
        {
            "canary_id": d.get("canary_id") or f"direct-{e.id}",
            "model": d["model"]["name"],
            "version": d["model"]["version"],
            "kind": kind,
            "step": step,
            "traffic_percent": share,
            "verdict": verdict,
            "results": d.get("results", []),
            "reasons": d.get("reasons", []),
            "time": e.time,
        },
    )


def _canary(e: AuditedEvent, status: str, step: int, share: float, verdict: str | None) -> Change:
    d = e.data
    return _model(
        d["model"]["name"],
        canary={
            "canary_id": d.get("canary_id"),
            "version": d["model"]["version"],
            "status": status,
            "step": step,
            "traffic_percent": share,
            "verdict": verdict,
            "since": e.time.isoformat(),
        },
    )


def _canary_started(e: AuditedEvent) -> list[Change]:
    share = e.data["steps"][0]["traffic_percent"]
    return [
        _step(e, "started", 0, share, None),
        _canary(e, "running", 0, share, None),
        _version(e, status="canary"),
    ]


def _canary_advanced(e: AuditedEvent) -> list[Change]:
    d = e.data
    return [
        _step(e, "advanced", d["step"], d["traffic_percent"], d["verdict"]),
        _canary(e, "running", d["step"], d["traffic_percent"], d["verdict"]),
    ]


def _rolled_back(e: AuditedEvent) -> list[Change]:
    d = e.data
    return [
        _step(e, "rolled_back", d["step"], d["traffic_percent"], d["verdict"]),
        _canary(e, "rolled_back", d["step"], d["traffic_percent"], d["verdict"]),
        _version(e, status="rolled_back", reasons=d["reasons"], rolled_back_at=e.time),
    ]


def _promoted(e: AuditedEvent) -> list[Change]:
    d = e.data
    name, version = d["model"]["name"], d["model"]["version"]
    changes = [
        _step(e, "promoted", -1, 100.0, "pass" if d["via"] == "canary" else None),
        _model(name, champion=version, champion_since=e.time),
        _version(e, status="champion", promoted_at=e.time, promoted_by=d.get("promoted_by")),
    ]
    if d.get("canary_id"):
        changes.append(_canary(e, "promoted", -1, 100.0, "pass"))
    if d.get("previous"):
        changes.append(
            Change(
                "versions",
                {"model": name, "version": d["previous"]["version"]},
                {"status": "retired"},
            )
        )
    return changes


def _features(e: AuditedEvent) -> list[Change]:
    d = e.data
    return [
        Change(
            "drift_windows",
            {"event_id": e.id, "feature": f["feature"]},
            {
                "model": d["model"]["name"],
                "version": d["model"]["version"],
                "drift_id": d["drift_id"],
                "test": f["test"],
                "statistic": f["statistic"],
                "p_value": f.get("p_value"),
                "threshold": f["threshold"],
                "drifted": f["drifted"],
                "window_end": _time(d["window"]["end"]),
            },
        )
        for f in d["features"]
    ]


def _drift_detected(e: AuditedEvent) -> list[Change]:
    d = e.data
    drifted = [f["feature"] for f in d["features"] if f["drifted"]]
    return [
        *_features(e),
        Change(
            "drift_episodes",
            {"drift_id": d["drift_id"]},
            {
                "model": d["model"]["name"],
                "version": d["model"]["version"],
                "detected_at": e.time,
                "severity": d["severity"],
                "features": drifted,
            },
        ),
        _model(
            d["model"]["name"],
            drift={
                "drift_id": d["drift_id"],
                "status": "open",
                "severity": d["severity"],
                "features": drifted,
                "since": e.time.isoformat(),
            },
        ),
    ]


def _drift_resolved(e: AuditedEvent) -> list[Change]:
    d = e.data
    return [
        *_features(e),
        Change(
            "drift_episodes",
            {"drift_id": d["drift_id"]},
            {
                "model": d["model"]["name"],
                "version": d["model"]["version"],
                "detected_at": _time(d["detected_at"]),
                "resolved_at": e.time,
                "resolution": d["resolution"],
            },
        ),
        _model(
            d["model"]["name"],
            drift={
                "drift_id": d["drift_id"],
                "status": "resolved",
                "resolution": d["resolution"],
                "since": e.time.isoformat(),
            },
        ),
    ]


def _dataset(e: AuditedEvent, verdict: str, warnings: list[Any], reasons: list[Any]) -> Change:
    ds = e.data["dataset"]
    return Change(
        "datasets",
        {"event_id": e.id},
        {
            "name": ds["name"],
            "version": ds.get("version"),
            "verdict": verdict,
            "sha256": ds["sha256"],
            "rows": ds.get("rows"),
            "warnings": warnings,
            "reasons": reasons,
            "time": e.time,
        },
    )


def _validated(e: AuditedEvent) -> list[Change]:
    return [_dataset(e, "accepted", e.data.get("warnings", []), [])]


def _data_rejected(e: AuditedEvent) -> list[Change]:
    return [_dataset(e, "rejected", [], e.data["reasons"])]


def _run(e: AuditedEvent, status: str, **values: Any) -> list[Change]:
    d = e.data
    summary = {
        "run_id": d["run_id"],
        "status": status,
        "time": e.time.isoformat(),
        "metrics": d.get("metrics"),
        "reason": (d.get("reason") or {}).get("code"),
    }
    return [
        Change("runs", {"run_id": d["run_id"]}, {"model": d["model"], "status": status, **values}),
        _model(d["model"], training=summary),
    ]


def _training_started(e: AuditedEvent) -> list[Change]:
    d = e.data
    return _run(e, "running", dataset=d["dataset"], trigger=d["trigger"], started_at=e.time)


def _trained(e: AuditedEvent) -> list[Change]:
    d = e.data
    return _run(
        e,
        "trained",
        dataset=d["dataset"],
        params=d["params"],
        metrics=d["metrics"],
        duration_s=d["duration_s"],
        finished_at=e.time,
    )


def _training_failed(e: AuditedEvent) -> list[Change]:
    d = e.data
    return _run(e, "failed", dataset=d.get("dataset"), reason=d["reason"], finished_at=e.time)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


PROJECTIONS: dict[str, Callable[[AuditedEvent], list[Change]]] = {
    ModelRegistered.ce_type: _registered,
    ModelApproved.ce_type: _approved,
    ModelRejected.ce_type: _rejected,
    CanaryStarted.ce_type: _canary_started,
    CanaryStepAdvanced.ce_type: _canary_advanced,
    CanaryRolledBack.ce_type: _rolled_back,
    ModelPromoted.ce_type: _promoted,
    DriftDetected.ce_type: _drift_detected,
    DriftResolved.ce_type: _drift_resolved,
    DataValidated.ce_type: _validated,
    DataRejected.ce_type: _data_rejected,
    TrainingStarted.ce_type: _training_started,
    ModelTrained.ce_type: _trained,
    TrainingFailed.ce_type: _training_failed,
}


def project(event: AuditedEvent) -> list[Change]:
    """Every row change ``event`` makes: its feed entry, then what its type projects."""
    feed = Change(
        "events",
        {"event_id": event.id},
        {
            "type": event.type,
            "subject": event.subject,
            "actor": event.actor,
            "time": event.time,
            "data": event.data,
        },
    )
    projection = PROJECTIONS.get(event.type)
    if projection is None:
        return [feed]
    try:
        return [feed, *projection(event)]
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise UnprojectableEventError(f"{event.type} {event.id}: {exc!r}") from exc
