"""The one shared base of every event: configuration, routing class variables, ``subject()``."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel

from driftline_contracts.values import FROZEN


class Event(BaseModel):
    """Base of all events; holds configuration and routing metadata only, no fields."""

    model_config = FROZEN

    ce_type: ClassVar[str]
    """CloudEvents ``type``, e.g. ``io.driftline.data.arrived.v1``."""
    topic: ClassVar[str]
    """Kafka topic the event is published to."""
    key_path: ClassVar[str]
    """Dotted path to the aggregate name (Kafka key, CloudEvents subject), e.g. ``model.name``."""
    producer: ClassVar[str]
    """Service (or outside party) that publishes the event."""
    consumers: ClassVar[tuple[str, ...]] = ()
    """Services that consume the event (besides the audit sink)."""

    def subject(self) -> str:
        """Aggregate name: dataset name for data events, model name for all others."""
        value: Any = self
        for part in self.key_path.split("."):
            value = getattr(value, part)
        return str(value)
