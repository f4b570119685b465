"""Signed digests of the audit chain, each naming the one before it (pure functions).

A digest covers the chain rows ``first_seq..last_seq``: it names the head hash at
``last_seq`` and the signature of the previous digest, and is HMAC-SHA256-signed over all of
that. Digests are numbered 1, 2, 3, … with no gaps, so a reader finds every copy of them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, replace
from typing import Any

ALGORITHM = "HMAC-SHA256"
FIRST_PREVIOUS = "0" * 64
"""What digest 1 names as its previous signature."""
VERSION = 2


class DigestFormatError(ValueError):
    """A stored digest is not a digest document."""


@dataclass(frozen=True)
class Digest:
    """One signed digest of the chain."""

    number: int
    first_seq: int
    last_seq: int
    head_hash: str
    previous_signature: str
    signed_at: str
    signature: str = ""

    def signed_fields(self) -> bytes:
        """The canonical bytes the signature covers (every field but the signature)."""
        fields = {k: v for k, v in asdict(self).items() if k != "signature"}
        fields["version"] = VERSION
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def to_json(self) -> bytes:
        """The document stored in PostgreSQL, S3 and on the audit stream."""
        return json.dumps(
            {**asdict(self), "version": VERSION, "algorithm": ALGORITHM}, sort_keys=True
        ).encode()


def signature_of(key: bytes, digest: Digest) -> str:
    """HMAC-SHA256 of the digest's signed fields under ``key``."""
    return hmac.new(key, digest.signed_fields(), hashlib.sha256).hexdigest()


def is_signed_by(key: bytes, digest: Digest) -> bool:
    """Whether ``digest`` carries a valid signature under ``key``."""
    return hmac.compare_digest(signature_of(key, digest), digest.signature)


def next_digest(
    key: bytes, previous: Digest | None, head_seq: int, head_hash: str, signed_at: str
) -> Digest | None:
    """The digest that extends ``previous`` to the head; None when nothing new is unsigned."""
    covered = previous.last_seq if previous else 0
    if head_seq <= covered:
        return None
    unsigned = Digest(
        number=previous.number + 1 if previous else 1,
        first_seq=covered + 1,
        last_seq=head_seq,
        head_hash=head_hash,
        previous_signature=previous.signature if previous else FIRST_PREVIOUS,
        signed_at=signed_at,
    )
    return replace(unsigned, signature=signature_of(key, unsigned))


def digest_from_json(data: bytes) -> Digest:
    """Parse a stored digest document; raise :class:`DigestFormatError` when it is not one."""
    try:
        raw: Any = json.loads(data)
        return Digest(
            number=int(raw["number"]),
            first_seq=int(raw["first_seq"]),
            last_seq=int(raw["last_seq"]),
            head_hash=str(raw["head_hash"]),
            previous_signature=str(raw["previous_signature"]),
            signed_at=str(raw["signed_at"]),
            signature=str(raw["signature"]),
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise DigestFormatError(f"not a digest document: {exc!r}") from exc


def digest_key(number: int) -> str:
    """Object key of digest ``number`` (written once, never overwritten).

    Not ``audit/digests/<12 digits>.json``: before the digest chain, those keys held head
    digests by seq, and an upgraded stack still has them.
    """
    return f"audit/digest-chain/{number:012d}.json"
