"""What validation's handlers get as ``uow.deps``: light to build, so start-up imports no pandas."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from driftline.runtime.openlineage import LineageEmitter
from driftline.runtime.storage import ArtifactStore
from driftline.validation.adapters.limits import Limits
from driftline.validation.settings import ValidationSection


@dataclass(frozen=True)
class ValidationDeps:
    """What the handlers need beyond the unit of work: the store and the limits."""

    store: ArtifactStore
    settings: ValidationSection
    workdir: Path | None = None
    lineage: LineageEmitter | None = None

    @property
    def limits(self) -> Limits:
        """Loader limits from the settings."""
        return Limits.from_section(self.settings)
