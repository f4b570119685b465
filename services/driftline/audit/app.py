"""Composition of the audit sink."""

from collections.abc import Awaitable, Callable
from pathlib import Path

from driftline.audit.handlers import subscriptions
from driftline.audit.http import routers
from driftline.audit.settings import AuditSection, AuditSettings
from driftline.audit.signer import write_digests_forever
from driftline.runtime.service import ServiceDefinition, ServiceRuntime


def _section(runtime: ServiceRuntime) -> AuditSection:
    """The audit section (plain runtime settings get its defaults, so no key)."""
    section = runtime.section
    if isinstance(section, AuditSection):
        return section
    return AuditSection.model_validate(section.model_dump())


def _digest_key(runtime: ServiceRuntime) -> bytes:
    """The signing key, read when the runtime is built: no key, no sink."""
    return _section(runtime).key_bytes()


def _digest_job(runtime: ServiceRuntime) -> list[Callable[[], Awaitable[None]]]:
    interval_s = _section(runtime).digest_interval_s

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
