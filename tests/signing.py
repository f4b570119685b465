"""Event-signing keys for tests: fresh key pairs, signed records, and the stack's own keys.

A test that stands in for a service in ``driftline_contracts.origin.SIGNED_BY`` (publishing the
events only it may emit: registry, training, deployment, validation, monitoring) signs them with
that service's key, as the real service would: on the stack with ``publish_as`` /
``publish_signed``, in process with ``signed_record``, a stand-in runtime with
``standing_in_for``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from driftline.runtime.deadletter import RawRecord
from driftline.runtime.event_signing import (
    EventSigner,
    OriginVerifier,
    encode_private_key,
    encode_public_key,
    key_id,
    load_private_key,
)
from driftline.runtime.services import SERVICE_NAMES
from driftline.runtime.settings import EventSigningSettings, RuntimeSettings
from driftline.stack import StackInfo
from driftline.stack.event_keys import private_key_path
from driftline_contracts.codec import encode
from driftline_contracts.envelope import Envelope, new_envelope
from driftline_contracts.events import Event
from driftline_contracts.origin import SIGNED_BY
from driftline_contracts.publish import build_producer

KEYS: dict[str, Ed25519PrivateKey] = {s: Ed25519PrivateKey.generate() for s in SERVICE_NAMES}
"""One key pair per service for the whole test session (unit tests)."""


def public_keys_text(keys: dict[str, Ed25519PrivateKey] | None = None) -> str:
    """``SERVICE BASE64`` entries separated by ';' (DRIFTLINE_SIGNING__PUBLIC_KEYS)."""
    return ";".join(
        f"{s} {encode_public_key(k.public_key())}" for s, k in (keys or KEYS).items()
    )


def signing_settings(service: str) -> EventSigningSettings:
    """Settings of ``service`` holding its own test key and every public key."""
    return EventSigningSettings(key=encode_private_key(KEYS[service]),  # type: ignore[arg-type]
                                public_keys=public_keys_text())  # fmt: skip


def signing_env(service: str) -> dict[str, str]:
    """The same as environment variables."""
    return {
        "DRIFTLINE_SIGNING__KEY": encode_private_key(KEYS[service]),
        "DRIFTLINE_SIGNING__PUBLIC_KEYS": public_keys_text(),
    }


def verifier() -> OriginVerifier:
    """A verifier knowing every test key."""
    return OriginVerifier({s: {key_id(k.public_key()): k.public_key()} for s, k in KEYS.items()})


def signed_record(
    event: Event,
    *,
    by: str | None,
    actor: str = "service:test",
    key: Ed25519PrivateKey | None = None,
    offset: int = 0,
) -> RawRecord:
    """A consumed record of ``event``, signed by service ``by`` (None: unsigned)."""
    envelope = new_envelope(event, source=f"driftline/{by or 'test'}", actor=actor)
    kafka = encode(event, envelope)
    headers = list(kafka.headers)
    if by is not None:
        headers += EventSigner(by, key or KEYS[by]).signature(kafka.headers, kafka.value)
    return RawRecord(kafka.topic, 0, offset, kafka.key, kafka.value, tuple(headers))


def stack_signer(stack: StackInfo, service: str) -> EventSigner | None:
    """``service``'s signer on the stack (None on a stack without keys, e.g. external)."""
    if stack.home is None:
        return None
    path: Path = private_key_path(stack.home, service)
    return EventSigner(service, load_private_key(path.read_text())) if path.exists() else None


def standing_in_for(stack: StackInfo, service: str, settings: RuntimeSettings) -> RuntimeSettings:
    """``settings`` of a test runtime that emits ``service``'s events (a stand-in for it): it
    signs with ``service``'s key from the stack, so consumers believe what it emits."""
    signer = stack_signer(stack, service)
    if signer is None:
        return settings
    key = SecretStr(encode_private_key(signer.key))
    signing = settings.signing.model_copy(update={"key": key, "key_file": None})
    return settings.model_copy(update={"signing": signing})


async def publish_as(
    stack: StackInfo,
    service: str | None,
    event: Event,
    *,
    source: str | None = None,
    actor: str | None = None,
    cause: Envelope | None = None,
    correlation_id: str | None = None,
    topic: str | None = None,
) -> Envelope:
    """Publish ``event`` straight to Kafka as ``service`` would, signed with its key (None:
    unsigned, as a pipeline or an attacker would), on its topic or ``topic`` (the audit
    stream, as the outbox relay copies it); its envelope once the broker has it."""
    signer = stack_signer(stack, service) if service else None
    envelope = new_envelope(event, source=source or f"driftline/{service or 'test'}",
                            actor=actor or f"service:{service or 'test'}", cause=cause,
                            correlation_id=correlation_id)  # fmt: skip
    kafka = encode(event, envelope)
    headers = list(kafka.headers)
    if signer is not None:
        headers += signer.signature(kafka.headers, kafka.value)
    producer: Any = build_producer(stack.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic or kafka.topic, kafka.value, key=kafka.key, headers=headers
        )
    finally:
        await producer.stop()
    return envelope


async def publish_signed(stack: StackInfo, event: Event, **envelope: Any) -> Envelope:
    """``driftline_contracts.publish.publish`` for tests standing in for a service: an event
    only one service may emit is signed with that service's key, any other goes unsigned."""
    return await publish_as(stack, SIGNED_BY.get(event.ce_type), event, **envelope)
