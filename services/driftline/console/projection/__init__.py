"""The console's read model as pure functions: one audited event → the row changes it makes.

Each :class:`Change` upserts one row by its key; a value of ``None`` keeps what the row holds
(events about one model arrive in order, each filling in the columns it knows).
"""

from __future__ import annotations

from collections.abc import Callable

from driftline.console.projection import lifecycle as lc
from driftline.console.projection import observations as ob
from driftline.console.projection.rows import (
    AuditedEvent,
    Change,
    UnprojectableEventError,
)
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

__all__ = ["PROJECTIONS", "AuditedEvent", "Change", "UnprojectableEventError", "project"]

PROJECTIONS: dict[str, Callable[[AuditedEvent], list[Change]]] = {
    ModelRegistered.ce_type: lc.registered,
    ModelApproved.ce_type: lc.approved,
    ModelRejected.ce_type: lc.rejected,
    CanaryStarted.ce_type: lc.canary_started,
    CanaryStepAdvanced.ce_type: lc.canary_advanced,
    CanaryRolledBack.ce_type: lc.rolled_back,
    ModelPromoted.ce_type: lc.promoted,
    DriftDetected.ce_type: ob.drift_detected,
    DriftResolved.ce_type: ob.drift_resolved,
    DataValidated.ce_type: ob.validated,
    DataRejected.ce_type: ob.data_rejected,
    TrainingStarted.ce_type: ob.training_started,
    ModelTrained.ce_type: ob.trained,
    TrainingFailed.ce_type: ob.training_failed,
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
