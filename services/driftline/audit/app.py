"""Composition of the audit sink."""

from pathlib import Path

from driftline.audit.handlers import subscriptions
from driftline.audit.http import routers
from driftline.audit.settings import AuditSettings
from driftline.audit.signer import write_digests_forever
from driftline.runtime.service import ServiceDefinition, ServiceRuntime


def _digest_key(runtime: ServiceRuntime) -> bytes:
    """The signing key, read when the runtime is built: no key, no sink."""
    return runtime.settings.audit.key_bytes()  # type: ignore[attr-defined,no-any-return]


def _digest_job(runtime: ServiceRuntime):  # type: ignore[no-untyped-def]
    interval_s = runtime.settings.audit.digest_interval_s  # type: ignore[attr-defined]

    async def sign_chain_head() -> None:
        await write_digests_forever(runtime, runtime.deps, interval_s)

    return [sign_chain_head]


def definition() -> ServiceDefinition:
    """The audit sink: hash-chains the audit topic into PostgreSQL, signs digests of it."""
    return ServiceDefinition(
        name="audit",
        subscriptions=subscriptions,
        routers=routers,
        migrations=Path(__file__).parent / "migrations",
        dependencies=_digest_key,
        settings_cls=AuditSettings,
        background=_digest_job,
    )
