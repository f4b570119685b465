"""The event catalog: every event class, looked up by its CloudEvents type."""

from __future__ import annotations

from driftline_contracts.errors import UnknownEventType
from driftline_contracts.events import (
    AuditDigestSigned,
    BatchScored,
    BatchScoringFailed,
    BatchScoringRequested,
    CanaryRolledBack,
    CanaryStarted,
    CanaryStepAdvanced,
    DataArrived,
    DataRejected,
    DataValidated,
    DriftDetected,
    DriftResolved,
    Event,
    GroundTruthReceived,
    ModelApproved,
    ModelPromoted,
    ModelRegistered,
    ModelRejected,
    ModelSpecApplied,
    ModelTrained,
    PredictionsLogged,
    RetrainSkipped,
    TrainingFailed,
    TrainingStarted,
)

EVENTS: tuple[type[Event], ...] = (
    ModelSpecApplied,
    DataArrived,
    DataValidated,
    DataRejected,
    TrainingStarted,
    ModelTrained,
    TrainingFailed,
    RetrainSkipped,
    ModelRegistered,
    ModelApproved,
    ModelRejected,
    CanaryStarted,
    CanaryStepAdvanced,
    ModelPromoted,
    CanaryRolledBack,
    PredictionsLogged,
    GroundTruthReceived,
    DriftDetected,
    DriftResolved,
    BatchScoringRequested,
    BatchScored,
    BatchScoringFailed,
    AuditDigestSigned,
)
"""Every event class, in lifecycle order."""

EVENT_CLASSES: dict[str, type[Event]] = {cls.ce_type: cls for cls in EVENTS}
"""Event class by CloudEvents type."""


def event_class(ce_type: str) -> type[Event]:
    """The class for ``ce_type``; raises UnknownEventType if the catalog has none."""
    try:
        return EVENT_CLASSES[ce_type]
    except KeyError:
        raise UnknownEventType(ce_type) from None
