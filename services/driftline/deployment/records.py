"""What deployment keeps per model: the champion and the canary rollout, as plain records."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from driftline_contracts.modelspec import MicroBatching
from driftline_contracts.values import ArtifactRef, CanaryStep, ModelRef


@dataclass(frozen=True)
class Served:
    """A model version that can serve: its reference and verified artifact."""

    model: ModelRef
    artifact: ArtifactRef


@dataclass(frozen=True)
class Canary:
    """An active rollout: challenger next to champion, at ``steps[step]`` of the plan."""

    canary_id: str
    challenger: Served
    champion: Served
    steps: tuple[CanaryStep, ...]
    step: int
    started_at: datetime
    step_started_at: datetime

    @property
    def current(self) -> CanaryStep:
        """The live step."""
        return self.steps[self.step]

    def advanced(self, now: datetime) -> Canary:
        """The same rollout one step further, starting its clock at ``now``."""
        return replace(self, step=self.step + 1, step_started_at=now)


@dataclass(frozen=True)
class Deployment:
    """What serves a model now: the champion and, during a rollout, the canary."""

    name: str
    champion: Served | None
    canary: Canary | None = None
    micro_batching: MicroBatching | None = None
    """The spec's micro-batching option when it is on (``serving.micro_batching``)."""
