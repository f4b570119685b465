"""Where the services are and which token to send: the CLI's discovery (explicit, then
``$DRIFTLINE_<SERVICE>_URL`` / ``$DRIFTLINE_TOKEN``, then the local stack's files)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from driftline.cli.credentials import bearer_token
from driftline.cli.service_url import error_detail, service_url
from driftline.client.calls import Call


class ClientError(Exception):
    """A service refused a request, or did not answer: ``status`` (0 for no answer), why."""

    def __init__(self, status: int, detail: str, call: Call) -> None:
        super().__init__(f"{call.method} {call.service}{call.path}: {status} {detail}")
        self.status = status
        self.detail = detail


class Discovery:
    """Base URLs and bearer tokens, resolved once per service and role."""

    def __init__(
        self, token: str | None = None, urls: Mapping[str, str] | None = None,
        home: Path | None = None,
    ) -> None:  # fmt: skip
        self._token = token
        self._urls = dict(urls or {})
        self._home = home

    def url(self, service: str) -> str:
        """The service's base URL."""
        if service not in self._urls:
            self._urls[service] = service_url(service, home=self._home)
        return self._urls[service].rstrip("/")

    def headers(self, role: str) -> dict[str, str]:
        """``Authorization`` for a call that needs ``role`` (none when no token is found)."""
        token = bearer_token(role, self._token, home=self._home)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, call: Call) -> dict[str, Any]:
        """The keyword arguments of ``httpx``'s ``request`` for ``call``."""
        return {
            "method": call.method, "url": f"{self.url(call.service)}{call.path}",
            "params": call.params, "json": call.json, "content": call.content,
            "headers": self.headers(call.role),
        }  # fmt: skip


def answer(call: Call, response: httpx.Response) -> Any:
    """The decoded answer (JSON, bytes for files, None for 204); ``ClientError`` otherwise."""
    if not response.is_success:
        raise ClientError(response.status_code, error_detail(response), call)
    if call.raw:
        return response.content
    return None if response.status_code == 204 or not response.content else response.json()


def unreachable(call: Call, exc: httpx.HTTPError) -> ClientError:
    """The error of a service that did not answer."""
    return ClientError(0, f"did not answer: {exc}", call)
