"""A service's signing key and the verifier of what it consumes, built from its settings.

A service refuses to start (``SigningNotConfiguredError`` from ``EventOrigin.require``, called
by ``ServiceRuntime.start`` and ``driftline serve``) when it must sign and has no key, when
its key is not among the public keys the others check against, or when it consumes a signed
event type without the public key of the service that signs it: a service that could not
check would either act on forgeries or dead-letter everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from driftline.runtime.event_signing import (
    EventSigner,
    OriginVerifier,
    SigningKeyError,
    key_id,
    load_private_key,
    parse_public_keys,
)
from driftline.runtime.settings import EventSigningSettings
from driftline_contracts.origin import SIGNED_BY

HOW_TO = (
    "`driftline stack up` makes every service's key pair in <home>/event-keys; elsewhere give "
    "each service its own DRIFTLINE_SIGNING__KEY_FILE and all of them "
    "DRIFTLINE_SIGNING__PUBLIC_KEYS_FILE (docs/security.md); only for a throw-away experiment "
    "DRIFTLINE_SIGNING__DISABLED=true"
)


class SigningNotConfiguredError(RuntimeError):
    """A service lacks the key it signs with, or the public keys it verifies against."""


@dataclass(frozen=True)
class EventOrigin:
    """What a service signs with (None: it emits unsigned events) and checks with (None:
    signing is disabled and everything is acted on)."""

    signer: EventSigner | None
    verifier: OriginVerifier | None
    problems: tuple[str, ...] = ()

    def require(self) -> None:
        """Raise SigningNotConfiguredError naming every problem, if there is one."""
        if self.problems:
            raise SigningNotConfiguredError("; ".join(self.problems) + ". " + HOW_TO)

    @property
    def disabled(self) -> bool:
        """Whether events are acted on without checking who emitted them."""
        return self.verifier is None


def _private_key(settings: EventSigningSettings, service: str) -> Ed25519PrivateKey | None:
    if settings.key is not None:
        return load_private_key(settings.key.get_secret_value())
    if settings.key_file is None:
        return None
    path = Path(settings.key_file.replace("{service}", service))
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        return load_private_key(text)
    except SigningKeyError as exc:
        raise SigningNotConfiguredError(f"{path}: {exc}") from None


def _public_keys(settings: EventSigningSettings) -> dict[str, dict[str, Ed25519PublicKey]]:
    lines: list[str] = []
    if settings.public_keys_file:
        try:
            lines += Path(settings.public_keys_file).read_text().splitlines()
        except FileNotFoundError:
            raise SigningNotConfiguredError(
                f"DRIFTLINE_SIGNING__PUBLIC_KEYS_FILE {settings.public_keys_file} does not exist"
            ) from None
    if settings.public_keys:
        lines += settings.public_keys.split(";")
    try:
        return parse_public_keys(lines)
    except SigningKeyError as exc:
        raise SigningNotConfiguredError(str(exc)) from None


def signers_of(consumed: Iterable[str]) -> set[str]:
    """The services whose signatures the consumer of these event types checks."""
    return {SIGNED_BY[t] for t in consumed if t in SIGNED_BY}


def _load(
    settings: EventSigningSettings, service: str
) -> tuple[dict[str, dict[str, Ed25519PublicKey]], Ed25519PrivateKey | None, list[str]]:
    """The public keys and this service's private key, and why either could not be read."""
    ring: dict[str, dict[str, Ed25519PublicKey]] = {}
    key, problems = None, []
    try:
        ring = _public_keys(settings)
    except SigningNotConfiguredError as exc:
        problems.append(str(exc))
    try:
        key = _private_key(settings, service)
    except SigningKeyError as exc:
        problems.append(f"DRIFTLINE_SIGNING__KEY: {exc}")
    except SigningNotConfiguredError as exc:
        problems.append(str(exc))
    return ring, key, problems


def event_origin(
    settings: EventSigningSettings, service: str, consumed: Iterable[str]
) -> EventOrigin:
    """The signer and verifier of ``service``, which consumes the ``consumed`` event types,
    with what is missing for it to start (see ``EventOrigin.require``)."""
    if settings.disabled:
        return EventOrigin(None, None)
    ring, key, problems = _load(settings, service)
    if key is None and service in SIGNED_BY.values():
        problems.append(f"{service} signs the events others act on and has no signing key")
    if key is not None and key_id(key.public_key()) not in ring.get(service, {}):
        problems.append(f"{service}'s signing key is not among the public keys of {service}")
    missing = sorted(s for s in signers_of(consumed) if not ring.get(s))
    if missing:
        problems.append(f"{service} checks events of {', '.join(missing)} but has no public key")
    signer = EventSigner(service, key) if key else None
    return EventOrigin(signer, OriginVerifier(ring), tuple(problems))
