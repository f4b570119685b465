"""Composition of the audit sink."""

from pathlib import Path

from driftline.audit.digests import write_digests_forever
from driftline.audit.handlers import subscriptions
from driftline.audit.http import routers
from driftline.audit.settings import AuditSettings
from driftline.runtime.service import ServiceDefinition, ServiceRuntime


def _digest_job(runtime: ServiceRuntime):  # type: ignore[no-untyped-def]
    section = runtime.settings.audit  # type: ignore[attr-defined]

    async def sign_chain_head() -> None:
        await write_digests_forever(
            runtime, section.digest_key.get_secret_value().encode(), section.digest_interval_s
        )

    return [sign_chain_head]


def definition() -> ServiceDefinition:
    """The audit sink: hash-chains the audit topic into PostgreSQL, signs its head in S3."""
    return ServiceDefinition(
        name="audit",
        subscriptions=subscriptions,
        routers=routers,
        migrations=Path(__file__).parent / "migrations",
        settings_cls=AuditSettings,
        background=_digest_job,
    )
