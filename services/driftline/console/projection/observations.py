"""Projections of what was observed: drift windows and episodes, dataset verdicts, runs."""

from __future__ import annotations

from typing import Any

from driftline.console.projection.rows import (
    AuditedEvent,
    Change,
    model_row,
    parse_time,
)


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
                "window_end": parse_time(d["window"]["end"]),
            },
        )
        for f in d["features"]
    ]


def drift_detected(e: AuditedEvent) -> list[Change]:
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
        model_row(
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


def drift_resolved(e: AuditedEvent) -> list[Change]:
    d = e.data
    return [
        *_features(e),
        Change(
            "drift_episodes",
            {"drift_id": d["drift_id"]},
            {
                "model": d["model"]["name"],
                "version": d["model"]["version"],
                "detected_at": parse_time(d["detected_at"]),
                "resolved_at": e.time,
                "resolution": d["resolution"],
            },
        ),
        model_row(
            d["model"]["name"],
            drift={
                "drift_id": d["drift_id"],
                "status": "resolved",
                "resolution": d["resolution"],
                "since": e.time.isoformat(),
            },
        ),
    ]


def _dataset(
    e: AuditedEvent,
    verdict: str,
    warnings: list[Any],
    reasons: list[Any],
    profile: dict[str, Any] | None = None,
) -> Change:
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
            "profile": profile,
            "time": e.time,
        },
    )


def validated(e: AuditedEvent) -> list[Change]:
    profile = e.data.get("profile") or {}
    ref = {"uri": profile["uri"], "sha256": profile.get("sha256")} if "uri" in profile else None
    return [_dataset(e, "accepted", e.data.get("warnings", []), [], ref)]


def data_rejected(e: AuditedEvent) -> list[Change]:
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
        model_row(d["model"], training=summary),
    ]


def training_started(e: AuditedEvent) -> list[Change]:
    d = e.data
    return _run(e, "running", dataset=d["dataset"], trigger=d["trigger"], started_at=e.time)


def trained(e: AuditedEvent) -> list[Change]:
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


def training_failed(e: AuditedEvent) -> list[Change]:
    d = e.data
    return _run(e, "failed", dataset=d.get("dataset"), reason=d["reason"], finished_at=e.time)
