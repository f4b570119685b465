"""Every Driftline event, one module per domain."""

from driftline_contracts.events.audit import AuditDigestSigned
from driftline_contracts.events.base import Event
from driftline_contracts.events.data import DataArrived, DataRejected, DataValidated
from driftline_contracts.events.deployment import (
    BatchScored,
    BatchScoringFailed,
    BatchScoringRequested,
    CanaryRolledBack,
    CanaryStarted,
    CanaryStepAdvanced,
    ModelPromoted,
)
from driftline_contracts.events.monitoring import (
    DriftDetected,
    DriftResolved,
    GroundTruthReceived,
    PredictionRow,
    PredictionsLogged,
    RowFlag,
)
from driftline_contracts.events.registry import ModelApproved, ModelRegistered, ModelRejected
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.events.training import (
    ModelTrained,
    RetrainSkipped,
    TrainingFailed,
    TrainingStarted,
)

__all__ = [
    "AuditDigestSigned",
    "BatchScored",
    "BatchScoringFailed",
    "BatchScoringRequested",
    "CanaryRolledBack",
    "CanaryStarted",
    "CanaryStepAdvanced",
    "DataArrived",
    "DataRejected",
    "DataValidated",
    "DriftDetected",
    "DriftResolved",
    "Event",
    "GroundTruthReceived",
    "ModelApproved",
    "ModelPromoted",
    "ModelRegistered",
    "ModelRejected",
    "ModelSpecApplied",
    "ModelTrained",
    "PredictionRow",
    "PredictionsLogged",
    "RetrainSkipped",
    "RowFlag",
    "TrainingFailed",
    "TrainingStarted",
]
