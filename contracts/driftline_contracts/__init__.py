"""Driftline's typed events, their CloudEvents Kafka binding and topic names."""

from driftline_contracts import topics
from driftline_contracts.catalog import EVENT_CLASSES, EVENTS, event_class
from driftline_contracts.codec import KafkaRecord, decode, encode
from driftline_contracts.envelope import Envelope, from_headers, new_envelope, to_headers
from driftline_contracts.errors import (
    ContractError,
    MalformedHeader,
    MalformedPayload,
    MissingHeader,
    SubjectMismatch,
    UnknownEventType,
)
from driftline_contracts.events import *  # noqa: F403 - the catalog is the public API
from driftline_contracts.events import __all__ as _event_names
from driftline_contracts.publish import Publisher, publish, publish_sync
from driftline_contracts.values import (
    ArtifactRef,
    CanaryStep,
    DatasetRef,
    FeatureDrift,
    GateResult,
    MetricResult,
    ModelRef,
    Reason,
    TimeWindow,
)

__all__ = [
    "EVENTS",
    "EVENT_CLASSES",
    "ArtifactRef",
    "CanaryStep",
    "ContractError",
    "DatasetRef",
    "Envelope",
    "FeatureDrift",
    "GateResult",
    "KafkaRecord",
    "MalformedHeader",
    "MalformedPayload",
    "MetricResult",
    "MissingHeader",
    "ModelRef",
    "Publisher",
    "Reason",
    "SubjectMismatch",
    "TimeWindow",
    "UnknownEventType",
    "decode",
    "encode",
    "event_class",
    "from_headers",
    "new_envelope",
    "publish",
    "publish_sync",
    "to_headers",
    "topics",
    *_event_names,
]
