"""The other services' public HTTP APIs, read with the console's own token."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from driftline.console.ports import Row
from driftline.console.settings import ConsoleSection
from driftline.runtime.logging import get_logger
from driftline.runtime.services import SERVICE_NAMES

log = get_logger(__name__)


class HttpUpstream:
    """Readiness of every service, and the audit service's lineage and verification."""

    def __init__(self, section: ConsoleSection, transport: httpx.AsyncBaseTransport | None = None):
        token = section.service_token.get_secret_value() if section.service_token else None
        self._section = section
        self._client = httpx.AsyncClient(
            timeout=section.upstream_timeout_s,
            transport=transport,
            headers={"Authorization": f"Bearer {token}"} if token else {},
        )

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def _get(self, service: str, path: str) -> tuple[int, Any]:
        """(status, JSON body); (0, reason) when the service does not answer."""
        try:
            response = await self._client.get(self._section.url_of(service) + path)
        except httpx.HTTPError as exc:
            log.info("upstream unreachable", service=service, path=path, error=repr(exc))
            return 0, f"unreachable: {type(exc).__name__}"
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.text[:200]

    async def readiness(self) -> dict[str, Row]:
        others = [name for name in SERVICE_NAMES if name != "console"]
        answers = await asyncio.gather(*(self._get(name, "/readyz") for name in others))
        found: dict[str, Row] = {}
        for name, (status, body) in zip(others, answers, strict=True):
            if isinstance(body, dict):
                found[name] = {
                    "status": body.get("status", str(status)),
                    "failing": body.get("failing", []),
                }
            else:
                found[name] = {
                    "status": "unreachable" if status == 0 else str(status),
                    "failing": [str(body)],
                }
        return found

    async def lineage(self, model: str, version: int) -> Row | None:
        status, body = await self._get("audit", f"/v1/lineage/{model}/{version}")
        return body if status == 200 and isinstance(body, dict) else None

    async def verify(self) -> Row:
        status, body = await self._get("audit", "/v1/audit/verify")
        if status == 200 and isinstance(body, dict):
            return body
        return {"ok": None, "error": f"audit answered {status or 'nothing'}: {body}"}

    async def decide(
        self, model: str, version: int, decision: str, comment: str | None, authorization: str
    ) -> tuple[int, str]:
        path = f"/v1/models/{model}/versions/{version}/{decision}"
        return await self.write("registry", path, {"comment": comment}, authorization)

    async def write(
        self, service: str, path: str, body: Row, authorization: str
    ) -> tuple[int, str]:
        try:
            response = await self._client.post(
                self._section.url_of(service) + path,
                json=body,
                headers={"Authorization": authorization},
            )
        except httpx.HTTPError as exc:
            return 502, f"the {service} service did not answer: {type(exc).__name__}"
        try:
            answer = response.json()
        except ValueError:
            return response.status_code, response.text[:300]
        return response.status_code, _detail(answer)

    async def drift_windows(self, model: str, limit: int) -> tuple[list[Row], str | None]:
        status, body = await self._get(
            "monitoring", f"/v1/models/{model}/drift/windows?limit={limit}"
        )
        if status == 200 and isinstance(body, list):
            return [w for w in body if isinstance(w, dict)], None
        return [], f"monitoring answered {status or 'nothing'}: {str(body)[:200]}"

    async def window_report(self, model: str, seq: int) -> Row | None:
        status, body = await self._get("monitoring", f"/v1/models/{model}/drift/windows/{seq}")
        return body if status == 200 and isinstance(body, dict) else None


def _detail(answer: Any) -> str:
    """The readable part of a JSON answer: FastAPI's ``detail`` (text or the first error)."""
    if not isinstance(answer, dict):
        return str(answer)[:300]
    detail = answer.get("detail")
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        return f"{'.'.join(str(p) for p in first.get('loc', []))}: {first.get('msg', '')}"
    if detail:
        return str(detail)[:300]
    return str(answer.get("status") or "done")
