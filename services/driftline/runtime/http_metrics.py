"""Request counts and latency by route template on ``/metrics`` (an ASGI middleware)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from driftline.runtime.metrics import Metrics

UNMATCHED = "unmatched"
"""The route label of a request no route answered (a 404 for any path: few series)."""


ROUTE_KEY = "driftline.route"
"""Scope key a middleware that answers before the router sets to its route template."""


class CountedRequests:
    """Middleware inside auth and around the service's own: the router notes the route it
    matched in the scope it shares with this layer (a fast path sets ``ROUTE_KEY``), so the
    label is the route's template (``/v1/models/{name}/predict``), never the raw path."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app raises before a response

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                self._observe(scope, time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        except Exception:
            self._count(scope, status)
            raise
        self._count(scope, status)  # a cancelled request (client gone) is not counted

    def _count(self, scope: Scope, status: int) -> None:
        self._metrics.http_requests.labels(
            self._metrics.service, _route_of(scope), scope["method"], str(status)
        ).inc()

    def _observe(self, scope: Scope, seconds: float) -> None:
        self._metrics.http_seconds.labels(
            self._metrics.service, _route_of(scope), scope["method"]
        ).observe(seconds)


def _route_of(scope: Scope) -> str:
    path = getattr(scope.get("route"), "path", None) or scope.get(ROUTE_KEY)
    return path if isinstance(path, str) else UNMATCHED
