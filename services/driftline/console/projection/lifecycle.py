"""Projections of the registry's decisions and the deployment's rollouts."""

from __future__ import annotations

from driftline.console.projection.rows import (
    AuditedEvent,
    Change,
    model_row,
    version_row,
)


def registered(e: AuditedEvent) -> list[Change]:
    d = e.data
    return [
        version_row(
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


def approved(e: AuditedEvent) -> list[Change]:
    d = e.data
    return [
        version_row(
            e,
            status="approved",
            gates=d["gates"],
            decided_by=d["approver"],
            comment=d.get("comment"),
            decided_at=e.time,
        )
    ]


def rejected(e: AuditedEvent) -> list[Change]:
    d = e.data
    return [
        version_row(
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
            "canary_id": d.get("canary_id") or e.id,
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
    return model_row(
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


def canary_started(e: AuditedEvent) -> list[Change]:
    share = e.data["steps"][0]["traffic_percent"]
    return [
        _step(e, "started", 0, share, None),
        _canary(e, "running", 0, share, None),
        version_row(e, status="canary"),
    ]


def canary_advanced(e: AuditedEvent) -> list[Change]:
    d = e.data
    return [
        _step(e, "advanced", d["step"], d["traffic_percent"], d["verdict"]),
        _canary(e, "running", d["step"], d["traffic_percent"], d["verdict"]),
    ]


def rolled_back(e: AuditedEvent) -> list[Change]:
    d = e.data
    return [
        _step(e, "rolled_back", d["step"], d["traffic_percent"], d["verdict"]),
        _canary(e, "rolled_back", d["step"], d["traffic_percent"], d["verdict"]),
        version_row(e, status="rolled_back", reasons=d["reasons"], rolled_back_at=e.time),
    ]


def promoted(e: AuditedEvent) -> list[Change]:
    d = e.data
    name, version = d["model"]["name"], d["model"]["version"]
    changes = [
        _step(e, "promoted", -1, 100.0, "pass" if d["via"] == "canary" else None),
        model_row(name, champion=version, champion_since=e.time),
        version_row(e, status="champion", promoted_at=e.time, promoted_by=d.get("promoted_by")),
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
