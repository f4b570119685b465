"""Settings shared by every service: one env prefix (``DRIFTLINE_``), one section per concern.

Nested fields use ``__``: ``DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS``, ``DRIFTLINE_INGEST__PORT``.
Values come from, in order of precedence: the process environment, then the env file that
``driftline stack up`` writes (``$DRIFTLINE_HOME/stack.env``), then the defaults below.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from driftline.runtime.services import SERVICE_PORTS

ENV_PREFIX = "DRIFTLINE_"


def driftline_home() -> Path:
    """Folder holding local-stack state (``DRIFTLINE_HOME``, default ``./.driftline``)."""
    return Path(os.environ.get("DRIFTLINE_HOME", ".driftline")).resolve()


class KafkaSettings(BaseModel):
    """How every service reaches the Kafka-protocol broker."""

    bootstrap_servers: str = Field("127.0.0.1:9092", description="Comma-separated host:port list.")
    idempotent_producer: bool = Field(
        False,
        description="enable.idempotence on producers: true for Apache Kafka, false for tansu "
        "(which answers UnknownError to it). Effects stay exactly-once through the inbox.",
    )
    partitions: int = Field(4, ge=1, description="Partitions for topics the platform creates.")
    session_timeout_ms: int = Field(
        10_000,
        ge=1_000,
        description="Consumer group session timeout. Apache Kafka refuses values under its "
        "group.min.session.timeout.ms (6000 by default); the local stack's tansu takes 3000, "
        "which makes consumers join and take over a dead replica's partitions sooner.",
    )
    heartbeat_interval_ms: int = Field(
        3_000, ge=100, description="Consumer heartbeat interval (below a third of the session)."
    )
    retry_backoff_ms: int = Field(
        1_000,
        ge=10,
        description="Pause of every Kafka client before it retries a failed request or "
        "reconnects. Kafka clients retry at this fixed pace, with no growing back-off; at "
        "aiokafka's default of 100 ms the services log ten times as many connection errors "
        "while the broker is down.",
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="Kafka security.protocol."
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        None, description="SASL mechanism when security_protocol uses SASL."
    )
    sasl_username: str | None = Field(None, description="SASL user name.")
    sasl_password: SecretStr | None = Field(None, description="SASL password.")
    ssl_cafile: str | None = Field(None, description="CA bundle for TLS connections.")
    ssl_certfile: str | None = Field(None, description="Client certificate for mutual TLS.")
    ssl_keyfile: str | None = Field(None, description="Client key for mutual TLS.")


def _hide_password(url: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


class DatabaseSettings(BaseModel):
    """PostgreSQL shared by the services; each service owns one schema in it."""

    url: str = Field(
        "postgresql+asyncpg://driftline:driftline@127.0.0.1:5432/driftline",
        description="SQLAlchemy async URL (asyncpg driver).",
    )
    migration_url: str | None = Field(
        None,
        description="URL of the role that owns the schema and runs migrations (default: url). "
        "Set it when the service itself runs as a less privileged role, like the audit writer.",
    )
    pool_size: int = Field(5, ge=1, description="Connections kept per service process.")

    def __repr_args__(self) -> Any:
        """The URLs without their passwords (settings reprs must never carry a secret)."""
        for name, value in super().__repr_args__():
            yield name, _hide_password(value) if isinstance(value, str) else value

    connect_timeout_s: float = Field(5.0, gt=0, description="Timeout for one connection attempt.")


class StorageSettings(BaseModel):
    """Object store for datasets, profiles, reports and model artifacts."""

    backend: Literal["s3", "local"] = Field("s3", description="s3 (minio client) or local files.")
    endpoint: str = Field("127.0.0.1:9000", description="S3 endpoint host:port.")
    access_key: str = Field("driftline", description="S3 access key.")
    secret_key: SecretStr = Field(SecretStr("driftline-secret"), description="S3 secret key.")
    secure: bool = Field(False, description="Use HTTPS for S3.")
    region: str = Field(
        "us-east-1", description="S3 region; set so the client skips bucket-location lookups."
    )
    bucket: str = Field("driftline", description="Bucket holding every Driftline object.")
    prefix: str = Field("", description="Key prefix inside the bucket that Driftline may use.")
    allowed_buckets: list[str] = Field(
        default_factory=list,
        description="Extra buckets a DataArrived URI may point into (read only).",
    )
    local_root: str = Field(".driftline/objects", description="Root folder of the local backend.")


class RetrySettings(BaseModel):
    """Failure policy for consumed events."""

    max_attempts: int = Field(3, ge=1, description="Attempts before an event is dead-lettered.")
    initial_backoff_s: float = Field(0.2, gt=0, description="First back-off; doubles each retry.")
    max_backoff_s: float = Field(10.0, gt=0, description="Cap on the back-off between retries.")
    jitter: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Each back-off is shortened by a random part of up to this fraction, so "
        "consumers that failed together (a database restart) spread their retries.",
    )


class OutboxSettings(BaseModel):
    """Outbox relay pacing and retention."""

    poll_interval_s: float = Field(0.5, gt=0, description="Idle poll interval of the relay.")
    batch_size: int = Field(100, ge=1, description="Rows published per relay transaction.")
    audit_topic_copy: bool = Field(True, description="Also append every event to the audit topic.")
    retention_days: float = Field(
        7.0,
        gt=0,
        le=36_500,
        allow_inf_nan=False,
        description="Published outbox rows older than this many days are deleted (hourly); "
        "an unpublished row is kept until the relay publishes it.",
    )


class InboxSettings(BaseModel):
    """Inbox retention (off by default: the inbox is what makes a replayed event harmless)."""

    retention_days: float = Field(
        0.0,
        ge=0,
        le=36_500,
        allow_inf_nan=False,
        description="Inbox rows handled more than this many days ago are deleted (hourly); 0 "
        "(default) keeps them. Set it above the topics' retention.ms: an event a topic can "
        "still deliver must still be found here, or a consumer starting from the beginning "
        "would apply it again.",
    )


class OpenLineageSettings(BaseModel):
    """Where validation and training send OpenLineage run events."""

    transport: Literal["none", "console", "file", "http"] = Field(
        "none", description="none (default), console, file (JSON lines) or http (e.g. Marquez)."
    )
    url: str | None = Field(None, description="Base URL of the OpenLineage HTTP backend.")
    endpoint: str = Field("api/v1/lineage", description="Path of the lineage endpoint.")
    file_path: str = Field(
        ".driftline/openlineage.jsonl", description="File the file transport appends to."
    )
    namespace: str = Field("driftline", description="Job namespace of Driftline's runs.")


class OidcSettings(BaseModel):
    """An external identity provider whose signed JWTs are accepted as bearer tokens."""

    issuer: str | None = Field(
        None, description="Expected 'iss' of the JWTs; setting it (with jwks_url) turns OIDC on."
    )
    audience: str | None = Field(
        None, description="Expected 'aud' of the JWTs (required when OIDC is on)."
    )
    jwks_url: str | None = Field(None, description="URL of the provider's JSON Web Key Set.")
    role_claim: str = Field(
        "driftline_role",
        description="Claim naming the Driftline role (a string, or a list: the strongest "
        "known role wins).",
    )
    actor_claim: str = Field(
        "sub", description="Claim naming the user; the actor becomes user:<value>."
    )
    algorithms: list[str] = Field(
        default_factory=lambda: ["RS256", "ES256"],
        description="Signature algorithms accepted (never 'none' or an HMAC one).",
    )
    jwks_cache_s: float = Field(
        300.0, gt=0, description="How long fetched signing keys are reused."
    )
    jwks_timeout_s: float = Field(5.0, gt=0, description="Timeout of one JWKS fetch.")
    leeway_s: int = Field(30, ge=0, description="Clock skew allowed on exp/nbf/iat.")

    @property
    def enabled(self) -> bool:
        """Whether JWTs from this provider are accepted."""
        return bool(self.issuer and self.jwks_url)


class AuthSettings(BaseModel):
    """Who may call the HTTP APIs; a service refuses to start unless one way is chosen."""

    tokens_file: str | None = Field(
        None,
        description="File of 'TOKEN user:NAME ROLE' lines (roles: viewer, publisher, approver, "
        "admin); `driftline stack up` writes one in the stack home.",
    )
    tokens: SecretStr | None = Field(
        None, description="The same entries inline, separated by ';' (prefer the file)."
    )
    oidc: OidcSettings = Field(default_factory=OidcSettings)
    trust_gateway_headers: bool = Field(
        False,
        description="No bearer tokens: an authenticating gateway in front sets "
        "X-Driftline-Actor / X-Driftline-Role and they are trusted as sent. Only for a "
        "service nobody can reach except through that gateway; warned about at every start.",
    )
    disabled: bool = Field(
        False,
        description="No authentication at all: every caller is anonymous, identity headers "
        "are dropped (so nobody can approve, promote or roll back) and every other endpoint "
        "is open. For throw-away local experiments; warned about at every start.",
    )


class EventSigningSettings(BaseModel):
    """Signatures that prove which service emitted an event (docs/security.md)."""

    key_file: str | None = Field(
        None,
        description="This service's Ed25519 private key (base64 of the 32-byte seed, or PKCS#8 "
        "PEM); '{service}' in the path is replaced by the service's name. `driftline stack up` "
        "makes one per service in `<home>/event-keys/` (mode 600). Required for registry, "
        "training, deployment, validation and monitoring.",
    )
    key: SecretStr | None = Field(None, description="The same key inline (prefer the file).")
    public_keys_file: str | None = Field(
        None,
        description="File of 'SERVICE BASE64KEY' lines: every service's public key (several "
        "lines for one service while its key is rotated). Required by every service that "
        "consumes a signed event type.",
    )
    public_keys: str | None = Field(
        None, description="The same lines inline, separated by ';'."
    )
    disabled: bool = Field(
        False,
        description="Sign nothing and act on unsigned events: anyone who can write to a topic "
        "can then make a spec current, approve or promote a model under any name. For "
        "throw-away local experiments; warned about at every start.",
    )


class TrainerSettings(BaseModel):
    """Which estimators a model spec may name; trainer functions are the installed plug-ins."""

    estimators: list[str] | None = Field(
        None,
        description="Estimator classes specs may name, replacing the default list "
        "(scikit-learn's classifiers and regressors that JSON params can build, and "
        "LightGBM's/XGBoost's when installed). A JSON list of dotted paths.",
    )
    extra_estimators: list[str] = Field(
        default_factory=list,
        description="Estimator classes allowed besides the default list (or estimators), "
        'e.g. ["mypackage.models.MyClassifier"].',
    )

    @field_validator("estimators", "extra_estimators")
    @classmethod
    def _dotted_class_paths(cls, paths: list[str] | None) -> list[str] | None:
        for path in paths or []:
            if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", path):
                raise ValueError(f"{path!r} is not a dotted class path like package.module.Class")
        return paths


class ServiceSection(BaseModel):
    """Per-service HTTP binding; each service subclasses it with its own settings."""

    host: str = Field("127.0.0.1", description="Interface the HTTP server binds to.")
    port: int = Field(..., ge=0, le=65535, description="HTTP port of the service (0: any free).")
    graceful_timeout_s: float = Field(
        20.0, gt=0, description="How long in-flight work may take to finish after SIGTERM."
    )
    startup_step_timeout_s: float = Field(
        90.0,
        gt=0,
        description="How long one start-up step (migrate, bucket, Kafka producer, consumer "
        "group joins) may take before it is abandoned, undone and retried. A group join the "
        "broker never completes is retried with fresh members instead of hanging the start.",
    )
    max_body_bytes: int = Field(
        16 * 1024 * 1024,
        ge=1,
        description="Largest request body in bytes (413 past it, refused from Content-Length "
        "before reading). Streamed uploads to ingest have their own limit, "
        "ingest.max_upload_bytes.",
    )


class RuntimeSettings(BaseSettings):
    """Settings every service process reads."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="ignore",
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    inbox: InboxSettings = Field(default_factory=InboxSettings)
    openlineage: OpenLineageSettings = Field(default_factory=OpenLineageSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    trainers: TrainerSettings = Field(default_factory=TrainerSettings)
    signing: EventSigningSettings = Field(default_factory=EventSigningSettings)
    ingest: ServiceSection = Field(default_factory=lambda: ServiceSection(port=8101))
    validation: ServiceSection = Field(default_factory=lambda: ServiceSection(port=8102))
    training: ServiceSection = Field(default_factory=lambda: ServiceSection(port=8103))
    registry: ServiceSection = Field(default_factory=lambda: ServiceSection(port=8104))
    deployment: ServiceSection = Field(default_factory=lambda: ServiceSection(port=8105))
    monitoring: ServiceSection = Field(default_factory=lambda: ServiceSection(port=8106))
    audit: ServiceSection = Field(default_factory=lambda: ServiceSection(port=8107))
    console: ServiceSection = Field(default_factory=lambda: ServiceSection(port=8108))
    log_level: str = Field("INFO", description="Log level of the JSON logs.")
    log_format: Literal["json", "console"] = Field("json", description="json or console logs.")

    @model_validator(mode="before")
    @classmethod
    def _documented_default_ports(cls, data: Any) -> Any:
        # DRIFTLINE_AUDIT__DIGEST_INTERVAL_S alone must not drop the audit section's port.
        if isinstance(data, dict):
            for name, port in SERVICE_PORTS.items():
                section = data.get(name)
                if isinstance(section, dict) and "port" not in section:
                    data[name] = {**section, "port": port}
        return data

    def section(self, service: str) -> ServiceSection:
        """The HTTP section of ``service`` (e.g. ``settings.section("ingest").port``)."""
        section = getattr(self, service, None)
        # Services without a section of their own (plug-ins, test probes) get the defaults.
        return section if isinstance(section, ServiceSection) else ServiceSection(port=0)

    @classmethod
    def load(cls, **overrides: object) -> RuntimeSettings:
        """Read the environment, then the local stack's env file, then defaults."""
        env_file = driftline_home() / "stack.env"
        env = env_file if env_file.exists() else None
        return cls(_env_file=env, **overrides)  # type: ignore[arg-type]  # field overrides
