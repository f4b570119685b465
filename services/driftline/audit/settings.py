"""Audit sink settings: the digest key and how often the chain head is signed."""

from __future__ import annotations

from pydantic import Field, SecretStr

from driftline.runtime.settings import RuntimeSettings, ServiceSection


class AuditSection(ServiceSection):
    """``DRIFTLINE_AUDIT__*``."""

    port: int = Field(8107, ge=0, le=65535, description="HTTP port of the audit sink.")
    digest_key: SecretStr = Field(
        SecretStr("driftline-local-audit-key"),
        description="HMAC key signing chain-head digests; set a real secret outside local runs.",
    )
    digest_interval_s: float = Field(
        30.0, gt=0, description="How often a signed digest of the chain head is written to S3."
    )


class AuditSettings(RuntimeSettings):
    """Runtime settings plus the audit section."""

    audit: AuditSection = Field(default_factory=AuditSection)  # type: ignore[assignment]
