"""Events of the audit sink about the audit trail itself."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from driftline_contracts import topics
from driftline_contracts.events.base import Event
from driftline_contracts.values import Sha256, ShortText


class AuditDigestSigned(Event):
    """The audit sink signed the rows appended to its hash chain since its previous digest."""

    # A write-once witness: a reader holding the HMAC key checks the signature and compares
    # the digest with the one the audit database holds under the same number (docs/audit.md).

    ce_type = "io.driftline.audit.digest-signed.v1"
    topic = topics.AUDIT_DIGEST_SIGNED
    key_path = "chain"
    producer = "audit"
    consumers = ()

    chain: Literal["audit"] = Field("audit", description="The hash chain signed: the audit log.")
    number: int = Field(ge=1, description="Position in the digest chain: 1, 2, 3, … no gaps.")
    first_seq: int = Field(ge=1, description="First chain row this digest covers.")
    last_seq: int = Field(ge=1, description="Last chain row this digest covers (the head).")
    head_hash: Sha256 = Field(description="Hash of the chain row at last_seq.")
    previous_signature: Sha256 = Field(
        description="Signature of digest number - 1 (64 zeros for digest 1)."
    )
    signed_at: ShortText = Field(description="When it was signed (ISO 8601, as signed).")
    algorithm: Literal["HMAC-SHA256"] = Field("HMAC-SHA256", description="Signature scheme.")
    signature: Sha256 = Field(description="HMAC-SHA256 over the digest's other fields.")
