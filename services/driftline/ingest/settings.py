"""Ingest settings: the runtime's settings plus the upload limit of the ingest section."""

from __future__ import annotations

from pydantic import Field

from driftline.runtime.settings import RuntimeSettings, ServiceSection

MIB = 1024 * 1024


class IngestSection(ServiceSection):
    """HTTP binding of the ingest service and how much one upload may hold."""

    max_upload_bytes: int = Field(
        512 * MIB, ge=1, description="Largest accepted upload body in bytes (413 past it)."
    )
    max_cell_bytes: int = Field(
        MIB,
        ge=1,
        description="Largest value of one cell of an uploaded CSV or Parquet file in bytes "
        "(422 cell_too_large past it).",
    )
    max_row_bytes: int = Field(
        8 * MIB,
        ge=1,
        description="Largest row of an uploaded CSV file in bytes (422 cell_too_large past it).",
    )
    spool_dir: str | None = Field(
        None, description="Folder for upload temp files (default: the system temp folder)."
    )


class IngestSettings(RuntimeSettings):
    """Settings of the ingest process (``DRIFTLINE_INGEST__MAX_UPLOAD_BYTES`` and friends)."""

    ingest: IngestSection = Field(default_factory=lambda: IngestSection(port=8101))


def ingest_section(section: ServiceSection) -> IngestSection:
    """``section`` as an ``IngestSection`` (plain runtime settings get the upload defaults)."""
    if isinstance(section, IngestSection):
        return section
    return IngestSection(**section.model_dump())
