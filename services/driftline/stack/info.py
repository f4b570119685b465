"""What callers get back: connection settings of a stack and the status of its processes."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from driftline.stack.event_keys import signing_env
from driftline.stack.tokens import TOKENS_VAR, tokens_path

ENV_FILE = "stack.env"
BOOTSTRAP_VAR = "DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS"
DATABASE_VAR = "DRIFTLINE_DATABASE__URL"
ENDPOINT_VAR = "DRIFTLINE_STORAGE__ENDPOINT"


LOCAL_BROKER_GROUP_TIMINGS = {
    "DRIFTLINE_KAFKA__SESSION_TIMEOUT_MS": "3000",
    "DRIFTLINE_KAFKA__HEARTBEAT_INTERVAL_MS": "500",
}
"""tansu accepts shorter group sessions than Apache Kafka: consumers join in ~2 s, not ~5 s."""


@dataclass(frozen=True)
class StackInfo:
    """Connection settings of a running stack (local or external)."""

    kafka_bootstrap: str
    database_url: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    bucket: str = "driftline"
    idempotent_producer: bool = False
    home: Path | None = None
    external: bool = False
    audit_database_url: str | None = None
    audit_owner_database_url: str | None = field(default=None, repr=False)
    audit_digest_key: str | None = field(default=None, repr=False)
    tokens_file: Path | None = None

    @property
    def auth_tokens_file(self) -> Path | None:
        """The bearer tokens file services read: the given one, else the local stack's."""
        if self.tokens_file or self.external or self.home is None:
            return self.tokens_file
        return tokens_path(self.home)

    def service_env(self, service: str) -> dict[str, str]:
        """``env()`` for one service, naming its own signing key; the audit sink also gets
        its roles and digest key."""
        env = self.env()
        if self.home is not None and not self.external:
            env.update(signing_env(self.home, service))
        if service == "audit":
            env.update(self.audit_env())
        return env

    def audit_env(self) -> dict[str, str]:
        """The audit sink's own settings: its writer role, its schema's owner, its key."""
        env: dict[str, str] = {}
        if self.audit_database_url:
            env["DRIFTLINE_DATABASE__MIGRATION_URL"] = (
                self.audit_owner_database_url or self.database_url
            )
            env[DATABASE_VAR] = self.audit_database_url
        if self.audit_digest_key:
            env["DRIFTLINE_AUDIT__DIGEST_KEY"] = self.audit_digest_key
        return env

    def env(self) -> dict[str, str]:
        """The ``DRIFTLINE_*`` settings that point a service at this stack."""
        return {
            BOOTSTRAP_VAR: self.kafka_bootstrap,
            "DRIFTLINE_KAFKA__IDEMPOTENT_PRODUCER": str(self.idempotent_producer).lower(),
            **({} if self.external else LOCAL_BROKER_GROUP_TIMINGS),
            DATABASE_VAR: self.database_url,
            "DRIFTLINE_STORAGE__BACKEND": "s3",
            ENDPOINT_VAR: self.s3_endpoint,
            "DRIFTLINE_STORAGE__ACCESS_KEY": self.s3_access_key,
            "DRIFTLINE_STORAGE__SECRET_KEY": self.s3_secret_key,
            "DRIFTLINE_STORAGE__BUCKET": self.bucket,
            **({TOKENS_VAR: str(self.auth_tokens_file)} if self.auth_tokens_file else {}),
            **(signing_env(self.home) if self.home is not None and not self.external else {}),
        }

    @property
    def asyncpg_dsn(self) -> str:
        """The database URL without the SQLAlchemy driver suffix (for asyncpg/psql)."""
        return self.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    def write_env_file(self, path: Path) -> None:
        """Write ``env()`` as ``KEY=value`` lines, readable by the owner only."""
        text = "".join(f"{key}={value}\n" for key, value in self.env().items())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text)


@dataclass(frozen=True)
class ServerStatus:
    """One server of the local stack."""

    name: str
    url: str
    port: int | None
    pid: int | None
    alive: bool
    answering: bool


@dataclass(frozen=True)
class ServiceStatus:
    """One registered Driftline service process."""

    name: str
    url: str
    pid: int
    alive: bool
    restarts: int = 0
    last_exit: str = ""


@dataclass(frozen=True)
class StackStatus:
    """Servers and registered services of one home folder."""

    home: Path
    servers: tuple[ServerStatus, ...]
    services: tuple[ServiceStatus, ...]

    @property
    def healthy(self) -> bool:
        """True when every server is alive and answering."""
        return bool(self.servers) and all(s.alive and s.answering for s in self.servers)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: servers and services keyed by name."""
        return {
            "home": str(self.home),
            "healthy": self.healthy,
            "servers": {s.name: asdict(s) for s in self.servers},
            "services": {s.name: asdict(s) for s in self.services},
        }


def external_stack_from_env(environ: Mapping[str, str] | None = None) -> StackInfo | None:
    """A StackInfo for explicit ``DRIFTLINE_*`` URLs (Kafka, database and S3 all set), else None."""
    env = os.environ if environ is None else environ
    if not all(env.get(var) for var in (BOOTSTRAP_VAR, DATABASE_VAR, ENDPOINT_VAR)):
        return None
    return StackInfo(
        kafka_bootstrap=env[BOOTSTRAP_VAR],
        database_url=env[DATABASE_VAR],
        s3_endpoint=env[ENDPOINT_VAR],
        s3_access_key=env.get("DRIFTLINE_STORAGE__ACCESS_KEY", "driftline"),
        s3_secret_key=env.get("DRIFTLINE_STORAGE__SECRET_KEY", "driftline-secret"),
        bucket=env.get("DRIFTLINE_STORAGE__BUCKET", "driftline"),
        tokens_file=Path(env[TOKENS_VAR]) if env.get(TOKENS_VAR) else None,
        idempotent_producer=env.get("DRIFTLINE_KAFKA__IDEMPOTENT_PRODUCER", "false").lower()
        in ("1", "true", "yes", "on"),
        external=True,
    )
