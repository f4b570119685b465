"""Delivery KPIs of the ML lifecycle (DORA-style), computed from audited events.

Pure functions only: entries in, a ``Kpis`` value out. Definitions are in docs/audit.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import mean, median
from typing import Any

from pydantic import BaseModel, Field

from driftline.audit.core import AuditEntry
from driftline.audit.lineage import payload_of
from driftline_contracts.events import (
    CanaryRolledBack,
    CanaryStarted,
    DataArrived,
    DriftDetected,
    DriftResolved,
    ModelPromoted,
    PredictionsLogged,
)

MONITORING_TYPES = (DriftDetected.ce_type, DriftResolved.ce_type, PredictionsLogged.ce_type)
KPI_TYPES = (
    DataArrived.ce_type,
    ModelPromoted.ce_type,
    CanaryStarted.ce_type,
    CanaryRolledBack.ce_type,
    DriftDetected.ce_type,
    DriftResolved.ce_type,
)
"""Types ``compute_kpis`` reads in full; for PredictionsLogged the newest per model suffices."""
MIN_WINDOW = timedelta(days=1)


class Kpis(BaseModel):
    """Lifecycle KPIs over a window of the audit log; None where there is nothing to measure."""

    model: str | None = Field(description="Model the KPIs are limited to; null for all models.")
    window_start: datetime | None = Field(description="Start of the window measured.")
    window_end: datetime | None = Field(description="End of the window measured.")
    promotions: int = Field(description="ModelPromoted events in the window.")
    lead_time_median_s: float | None = Field(
        description="Median seconds from DataArrived to ModelPromoted in one correlation id."
    )
    lead_time_p90_s: float | None = Field(description="90th percentile of those lead times.")
    lead_time_samples: int = Field(description="Correlation ids with both events.")
    deployment_frequency_per_day: float | None = Field(
        description="Promotions per day over the window (counted as at least one day)."
    )
    canaries_started: int = Field(description="CanaryStarted events.")
    rollbacks: int = Field(description="CanaryRolledBack events.")
    change_failure_rate: float | None = Field(description="Rollbacks divided by canaries started.")
    drift_episodes: int = Field(description="Distinct drift ids among DriftDetected events.")
    mean_time_to_detect_s: float | None = Field(
        description="Mean seconds from an episode's drift window start to its first detection."
    )
    mean_time_to_recover_s: float | None = Field(
        description="Mean seconds from first detection to the episode's DriftResolved."
    )
    recovered_episodes: int = Field(description="Drift episodes ended by their DriftResolved.")
    production_models: int = Field(description="Models with at least one promotion.")
    monitored_models: int = Field(
        description="Of those, models with a monitoring event after their latest promotion."
    )
    monitoring_coverage: float | None = Field(
        description="monitored_models divided by production_models."
    )


@dataclass(frozen=True)
class _Event:
    type: str
    subject: str
    time: datetime
    correlation_id: str
    data: dict[str, Any]


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default) of a non-empty sequence."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _of(events: Iterable[_Event], type_: str) -> list[_Event]:
    return sorted((e for e in events if e.type == type_), key=lambda e: e.time)


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def lead_times(arrivals: list[_Event], promotions: list[_Event]) -> list[float]:
    """Seconds from each correlation's first DataArrived to its first promotion after it."""
    first_arrival: dict[str, datetime] = {}
    for event in arrivals:
        first_arrival.setdefault(event.correlation_id, event.time)
    found: dict[str, float] = {}
    for event in promotions:
        start = first_arrival.get(event.correlation_id)
        if start is not None and event.time >= start and event.correlation_id not in found:
            found[event.correlation_id] = _seconds(event.time, start)
    return list(found.values())


def _window_start(data: dict[str, Any]) -> datetime | None:
    window = data.get("window")
    try:
        return datetime.fromisoformat(window["start"]) if isinstance(window, dict) else None
    except (KeyError, TypeError, ValueError):
        return None


def drift_times(
    detections: list[_Event], resolutions: list[_Event]
) -> tuple[list[float], list[float], int]:
    """(detect seconds, recover seconds, episodes) over first detections per drift id.

    An episode counts as recovered only at its own ``DriftResolved``: a promotion after the
    detection is not a recovery while the drift goes on (a replacement that drifts again).
    """
    firsts: dict[tuple[str, str], _Event] = {}
    for event in detections:
        firsts.setdefault((event.subject, str(event.data.get("drift_id"))), event)
    resolved: dict[tuple[str, str], datetime] = {}
    for event in resolutions:
        resolved.setdefault((event.subject, str(event.data.get("drift_id"))), event.time)
    detect: list[float] = []
    recover: list[float] = []
    for key, event in firsts.items():
        start = _window_start(event.data)
        if start is not None:
            detect.append(max(0.0, _seconds(event.time, start)))
        end = resolved.get(key)
        if end is not None and end >= event.time:
            recover.append(_seconds(end, event.time))
    return detect, recover, len(firsts)


def monitoring(events: list[_Event], promotions: list[_Event]) -> tuple[int, int]:
    """(production models, models with a monitoring event after their latest promotion)."""
    latest = {p.subject: p.time for p in promotions}
    watched = {
        e.subject
        for e in events
        if e.type in MONITORING_TYPES and e.subject in latest and e.time > latest[e.subject]
    }
    return len(latest), len(watched)


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _events(entries: Iterable[AuditEntry], since: datetime | None) -> list[_Event]:
    return [
        _Event(e.type, e.subject, e.time, e.correlation_id, payload_of(e))
        for e in entries
        if since is None or e.time >= since
    ]


def _for_model(events: list[_Event], model: str) -> list[_Event]:
    """The model's events plus the DataArrived events of its promotions' correlation ids."""
    runs = {
        e.correlation_id for e in events if e.subject == model and e.type != DataArrived.ce_type
    }
    return [
        e
        for e in events
        if (e.subject == model and e.type != DataArrived.ce_type)
        or (e.type == DataArrived.ce_type and e.correlation_id in runs)
    ]


def compute_kpis(
    entries: Iterable[AuditEntry],
    *,
    model: str | None = None,
    now: datetime | None = None,
    since: datetime | None = None,
) -> Kpis:
    """KPIs over the entries at/after ``since`` (default: the first), up to ``now`` (the last)."""
    events = _events(entries, since)
    if model is not None:
        events = _for_model(events, model)
    start = since or min((e.time for e in events), default=None)
    end = now or max((e.time for e in events), default=None)
    days = max(end - start, MIN_WINDOW) / timedelta(days=1) if start and end else None
    promotions = _of(events, ModelPromoted.ce_type)
    leads = lead_times(_of(events, DataArrived.ce_type), promotions)
    detect, recover, episodes = drift_times(
        _of(events, DriftDetected.ce_type), _of(events, DriftResolved.ce_type)
    )
    production, monitored = monitoring(events, promotions)
    canaries = len(_of(events, CanaryStarted.ce_type))
    rollbacks = len(_of(events, CanaryRolledBack.ce_type))
    return Kpis(
        model=model,
        window_start=start,
        window_end=end,
        promotions=len(promotions),
        lead_time_median_s=median(leads) if leads else None,
        lead_time_p90_s=percentile(leads, 0.9) if leads else None,
        lead_time_samples=len(leads),
        deployment_frequency_per_day=len(promotions) / days if days else None,
        canaries_started=canaries,
        rollbacks=rollbacks,
        change_failure_rate=_ratio(rollbacks, canaries),
        drift_episodes=episodes,
        mean_time_to_detect_s=mean(detect) if detect else None,
        mean_time_to_recover_s=mean(recover) if recover else None,
        recovered_episodes=len(recover),
        production_models=production,
        monitored_models=monitored,
        monitoring_coverage=_ratio(monitored, production),
    )
