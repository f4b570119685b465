"""Settings of the monitoring service: hysteresis, tolerances and batch limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from driftline.runtime.settings import RuntimeSettings, ServiceSection

if TYPE_CHECKING:
    from driftline.monitoring.evaluation import Tolerances

MIB = 1024 * 1024


class MonitoringSection(ServiceSection):
    """HTTP binding plus how drift episodes close and what counts as worse."""

    port: int = Field(8106, ge=0, le=65535, description="HTTP port of the service (0: any free).")
    resolve_after: int = Field(
        2, ge=1, description="Consecutive clean windows that end a drift episode."
    )
    quality_tolerance: float = Field(
        0.1, ge=0, le=1, description="Null/out-of-range/unseen share above reference that flags."
    )
    performance_tolerance: float = Field(
        0.05, ge=0, description="Accuracy drop (absolute) or RMSE rise (relative) that flags."
    )
    min_labels: int = Field(30, ge=1, description="Labelled predictions needed to judge a window.")
    max_batch_bytes: int = Field(64 * MIB, gt=0, description="Largest prediction batch object.")
    late_label_windows: int = Field(
        20,
        ge=1,
        description="Evaluated windows per model whose predictions are kept, so late labels "
        "can still re-judge them; older windows' predictions and labels are deleted (their "
        "window records and reports stay).",
    )
    max_unreferenced_rows: int = Field(
        100_000,
        ge=0,
        description="Predictions buffered per model while its spec or reference profile is "
        "unknown; older ones are dropped (counted in driftline_monitoring_rows_dropped_total).",
    )

    @property
    def tolerances(self) -> Tolerances:
        """The evaluation tolerances."""
        from driftline.monitoring.evaluation import Tolerances  # pandas, scipy: on first use

        return Tolerances(
            quality=self.quality_tolerance,
            performance=self.performance_tolerance,
            min_labels=self.min_labels,
        )


class MonitoringSettings(RuntimeSettings):
    """Runtime settings whose ``monitoring`` section carries the drift settings."""

    monitoring: MonitoringSection = Field(default_factory=MonitoringSection)


def monitoring_section(section: ServiceSection) -> MonitoringSection:
    """The section as a ``MonitoringSection`` (plain runtime settings get the defaults)."""
    if isinstance(section, MonitoringSection):
        return section
    return MonitoringSection.model_validate(section.model_dump())
