"""Finding a service's HTTP base URL and reading its error answers, for every CLI command."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import httpx

from driftline.runtime.services import SERVICE_PORTS


def url_env(service: str) -> str:
    """The environment variable naming ``service``'s URL, e.g. ``DRIFTLINE_REGISTRY_URL``."""
    return f"DRIFTLINE_{service.upper()}_URL"


def service_url(
    service: str,
    explicit: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> str:
    """``explicit``, else ``$DRIFTLINE_<SERVICE>_URL``, else the running local-stack service,
    else ``http://127.0.0.1:<its default port>``."""
    if explicit:
        return explicit.rstrip("/")
    env = os.environ if environ is None else environ
    if env.get(url_env(service)):
        return env[url_env(service)].rstrip("/")
    default = f"http://127.0.0.1:{SERVICE_PORTS[service]}"
    from driftline.runtime.settings import driftline_home
    from driftline.stack import LocalStack, StackError

    try:
        running = LocalStack(home or driftline_home()).status().services
    except (StackError, OSError, ValueError):
        return default
    return next((s.url for s in running if s.name == service and s.alive), default)


def error_detail(response: httpx.Response) -> str:
    """The ``detail`` of a FastAPI error answer, one line per invalid field."""
    try:
        detail = response.json().get("detail", response.text)
    except (ValueError, AttributeError):
        return response.text.strip() or response.reason_phrase
    if isinstance(detail, list):  # FastAPI request validation errors
        return "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}" for d in detail
        )
    return str(detail)
