"""Settings of the validation service: the limits that keep hostile data bounded."""

from __future__ import annotations

from pydantic import Field

from driftline.runtime.settings import RuntimeSettings, ServiceSection

MIB = 1024 * 1024


class ValidationSection(ServiceSection):
    """HTTP binding plus the size, row, column and time limits of one dataset load."""

    port: int = Field(8102, ge=0, le=65535, description="HTTP port of the service (0: any free).")
    max_bytes: int = Field(512 * MIB, gt=0, description="Largest object accepted (bytes).")
    max_uncompressed_bytes: int = Field(
        2048 * MIB,
        gt=0,
        description="Largest decompressed size of a gzip CSV or a Parquet file (footer metadata).",
    )
    max_rows: int = Field(5_000_000, gt=0, description="Most rows a dataset version may have.")
    max_columns: int = Field(500, gt=0, description="Most columns a dataset version may have.")
    max_category_distinct: int = Field(
        50, gt=0, description="Most distinct values listed per column in reports."
    )
    parse_timeout_s: float = Field(
        300.0, gt=0, description="Longest a single dataset may take to parse before rejection."
    )


class ValidationSettings(RuntimeSettings):
    """Runtime settings whose ``validation`` section carries the loader limits."""

    validation: ValidationSection = Field(default_factory=ValidationSection)


def validation_section(section: ServiceSection) -> ValidationSection:
    """The section as a ``ValidationSection`` (plain runtime settings get the default limits)."""
    if isinstance(section, ValidationSection):
        return section
    return ValidationSection.model_validate(section.model_dump())
