"""Ed25519 signatures on emitted events, and the check consumers make before acting on one.

What is signed and which service must sign which event type: ``driftline_contracts.origin``.
Keys: a service's private key signs everything it emits; every service holds the public keys
of the others (several per service while a key is rotated), picked by the key id header.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from driftline_contracts.origin import (
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    SIGNED_BY,
    signature_headers,
    signed_content,
)

Headers = Sequence[tuple[str, bytes]]


class SigningKeyError(ValueError):
    """Key material that is not an Ed25519 key in a form Driftline reads."""


class UnverifiedOrigin(Exception):  # noqa: N818 - reads as what the record is
    """An event of a signed type without a valid signature of the service that must sign it."""

    reason = "unverified_origin"

    def __init__(self, event_type: str, detail: str) -> None:
        super().__init__(f"unverified_origin: {event_type}: {detail}")
        self.event_type = event_type


def public_bytes(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """Short name of a public key: the first 16 hex digits of its sha256."""
    return hashlib.sha256(public_bytes(key)).hexdigest()[:16]


def encode_private_key(key: Ed25519PrivateKey) -> str:
    """A private key as base64 of its 32-byte seed (how the stack stores it)."""
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return base64.b64encode(raw).decode()


def encode_public_key(key: Ed25519PublicKey) -> str:
    """A public key as base64 of its 32 raw bytes."""
    return base64.b64encode(public_bytes(key)).decode()


def load_private_key(text: str) -> Ed25519PrivateKey:
    """A private key from base64 of its seed, or PKCS#8 PEM (``openssl genpkey -algorithm
    ed25519``)."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise SigningKeyError("the PEM key is not an Ed25519 key")
            return key
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error) as exc:
        if isinstance(exc, SigningKeyError):
            raise
        raise SigningKeyError("not an Ed25519 private key (base64 seed or PEM)") from None


def load_public_key(text: str) -> Ed25519PublicKey:
    """A public key from base64 of its 32 raw bytes."""
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip(), validate=True))
    except (ValueError, binascii.Error):
        raise SigningKeyError("not an Ed25519 public key (base64 of 32 bytes)") from None


def parse_public_keys(lines: Iterable[str]) -> dict[str, dict[str, Ed25519PublicKey]]:
    """``SERVICE BASE64`` lines (``#`` comments, blank lines skipped) → service → key id → key.
    A service may have several lines: its old and new keys while one is rotated."""
    ring: dict[str, dict[str, Ed25519PublicKey]] = {}
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        parts = text.split()
        if len(parts) != 2:
            raise SigningKeyError(f"public keys line {number}: expected 'SERVICE BASE64KEY'")
        try:
            key = load_public_key(parts[1])
        except SigningKeyError as exc:
            raise SigningKeyError(f"public keys line {number}: {exc}") from None
        ring.setdefault(parts[0], {})[key_id(key)] = key
    return ring


@dataclass(frozen=True)
class EventSigner:
    """Signs the records one service emits."""

    service: str
    key: Ed25519PrivateKey = field(repr=False)

    @property
    def key_id(self) -> str:
        """Id of the public half, sent with every signature."""
        return key_id(self.key.public_key())

    def signature(self, headers: Headers, value: bytes) -> list[tuple[str, bytes]]:
        """The two signature headers for a record with these ``ce_*`` headers and value."""
        sig = self.key.sign(signed_content(headers, value))
        return [
            (SIGNATURE_HEADER, base64.urlsafe_b64encode(sig).rstrip(b"=")),
            (KEY_ID_HEADER, self.key_id.encode()),
        ]


def _signature_bytes(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        return b""


@dataclass(frozen=True)
class OriginVerifier:
    """Checks that events of signed types were signed by the service ``signed_by`` names."""

    keys: Mapping[str, Mapping[str, Ed25519PublicKey]]
    signed_by: Mapping[str, str] = field(default_factory=lambda: dict(SIGNED_BY))

    def verify(self, event_type: str, headers: Headers, value: bytes) -> str | None:
        """The service whose key validly signed the record (None: unsigned, or a signature
        no known key makes valid); UnverifiedOrigin when ``event_type`` needs the signature
        of a service and the record does not carry a valid one."""
        signer = self.signed_by.get(event_type)
        if signer is None:
            return self._any_signer(headers, value)
        signature, kid = signature_headers(headers)
        if signature is None or kid is None:
            raise UnverifiedOrigin(event_type, f"no signature; only {signer} may emit it")
        key = self.keys.get(signer, {}).get(kid)
        if key is None:
            raise UnverifiedOrigin(event_type, f"key {kid[:32]!r} is not a key of {signer}")
        try:
            key.verify(_signature_bytes(signature), signed_content(headers, value))
        except InvalidSignature:
            raise UnverifiedOrigin(
                event_type, f"the signature of {signer}'s key does not match this event"
            ) from None
        return signer

    def _any_signer(self, headers: Headers, value: bytes) -> str | None:
        """The service whose key validly signed a record of a type anyone may emit."""
        signature, kid = signature_headers(headers)
        if signature is None or kid is None:
            return None
        for service, keys in self.keys.items():
            if kid in keys:
                try:
                    keys[kid].verify(_signature_bytes(signature), signed_content(headers, value))
                except InvalidSignature:
                    return None
                return service
        return None
