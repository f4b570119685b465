"""Settings of the training service: worker pool, leases and limits of one run."""

from __future__ import annotations

from pydantic import Field

from driftline.runtime.settings import RuntimeSettings, ServiceSection


class TrainingSection(ServiceSection):
    """HTTP binding plus the worker pool, the job lease and the limits of one run."""

    port: int = Field(8103, ge=0, le=65535, description="HTTP port of the service (0: any free).")
    max_workers: int = Field(1, ge=1, le=64, description="Training processes run in parallel.")
    lease_s: float = Field(
        600.0, gt=0, description="A running job not renewed for this long is reclaimed."
    )
    timeout_s: float = Field(3600.0, gt=0, description="Longest one training run may take.")
    poll_interval_s: float = Field(1.0, gt=0, description="Idle poll interval of the worker.")
    max_attempts: int = Field(
        3, ge=1, description="Claims of one job (crashed workers) before it fails."
    )
    max_rows: int = Field(
        5_000_000, gt=0, description="Most rows a dataset may have (else resource_limit)."
    )


class TrainingSettings(RuntimeSettings):
    """Runtime settings whose ``training`` section carries the worker settings."""

    training: TrainingSection = Field(default_factory=TrainingSection)


def training_section(section: ServiceSection) -> TrainingSection:
    """The section as a ``TrainingSection`` (plain runtime settings get the defaults)."""
    if isinstance(section, TrainingSection):
        return section
    return TrainingSection.model_validate(section.model_dump())
