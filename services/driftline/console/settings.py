"""Console settings: where the other services answer, the token it reads them with, paging."""

from __future__ import annotations

from pydantic import Field, SecretStr

from driftline.runtime.services import SERVICE_PORTS
from driftline.runtime.settings import RuntimeSettings, ServiceSection


class ConsoleSection(ServiceSection):
    """``DRIFTLINE_CONSOLE__*``."""

    port: int = Field(8108, ge=0, le=65535, description="HTTP port of the console.")
    service_urls: dict[str, str] = Field(
        default_factory=dict,
        description="Base URL of each service the console reads (readiness, lineage, chain "
        'verification), as JSON, e.g. {"audit": "http://audit:8107"}; a service not named '
        "is looked for at http://127.0.0.1:<its default port>. The local stack sets it.",
    )
    service_token: SecretStr | None = Field(
        None,
        description="Bearer token the console sends to the other services' read APIs (a "
        "viewer's is enough). The local stack gives it the viewer token.",
    )
    page_size: int = Field(50, ge=1, le=500, description="Rows per page of every list.")
    upstream_timeout_s: float = Field(
        3.0, gt=0, description="How long the console waits for another service's answer."
    )
    secure_cookie: bool = Field(
        False,
        description="Mark the sign-in cookie Secure (browsers then send it over HTTPS only); "
        "set it whenever the console is reached through TLS.",
    )

    def url_of(self, service: str) -> str:
        """The base URL of ``service`` (no trailing slash)."""
        default = f"http://127.0.0.1:{SERVICE_PORTS[service]}"
        return self.service_urls.get(service, default).rstrip("/")


class ConsoleSettings(RuntimeSettings):
    """Runtime settings plus the console section."""

    console: ConsoleSection = Field(default_factory=ConsoleSection)  # type: ignore[assignment]  # narrowed
