"""Audit sink settings: the digest key (required) and how often the chain head is signed."""

from __future__ import annotations

from pydantic import Field, SecretStr

from driftline.runtime.settings import RuntimeSettings, ServiceSection

KEY_VAR = "DRIFTLINE_AUDIT__DIGEST_KEY"
MIN_KEY_CHARS = 16


class DigestKeyMissingError(RuntimeError):
    """The audit sink has no (usable) HMAC key to sign digests with."""


class AuditSection(ServiceSection):
    """``DRIFTLINE_AUDIT__*``."""

    port: int = Field(8107, ge=0, le=65535, description="HTTP port of the audit sink.")
    digest_key: SecretStr | None = Field(
        None,
        description="HMAC key signing the chain's digests (at least 16 characters). Required: "
        "the audit sink and `driftline audit verify` refuse to run without it. "
        "`driftline stack up` generates one per stack (`<home>/audit-digest.key`).",
    )
    digest_interval_s: float = Field(
        30.0, gt=0, description="How often the rows appended since the last digest are signed."
    )

    def key_bytes(self) -> bytes:
        """The digest key; raise :class:`DigestKeyMissingError` when unset or too short."""
        key = self.digest_key.get_secret_value() if self.digest_key else ""
        if len(key) < MIN_KEY_CHARS:
            raise DigestKeyMissingError(
                f"{KEY_VAR} is {'too short' if key else 'not set'}: the audit sink signs its "
                f"digests with it and will not start without a secret of at least "
                f"{MIN_KEY_CHARS} characters (the local stack generates one; elsewhere set it "
                "from your secret store)"
            )
        return key.encode()


class AuditSettings(RuntimeSettings):
    """Runtime settings plus the audit section."""

    # The base declares a plain ServiceSection; this service reads its own subclass.
    audit: AuditSection = Field(default_factory=AuditSection)  # type: ignore[assignment]  # narrowed
