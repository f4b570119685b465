"""Request bodies held to a size and to finite numbers, before any route sees them.

``BodyLimit`` is ASGI middleware every service's app gets (``runtime/http.py``), outside the
deployment fast path, so predict requests are held to it too. A ``Content-Length`` over the
limit is refused with 413 before one byte is read. Other bodies are read up to the limit and
then refused (chunked bodies included); a body within it is handed on whole, after a check
that no JSON number in it is ``NaN``, ``Infinity`` or beyond a float (``1e999``), which would
otherwise reach the routes as ``nan``/``inf`` (422 naming the field instead). Streamed uploads
(``streamed`` path prefixes, ``"/prefix"`` for POST or ``"PUT /prefix"`` for another method)
are not buffered: their bytes are counted as the route reads them and the read fails with 413
past their own, larger limit. Only JSON bodies (or bodies with no content type, which the
routes parse as JSON) are scanned for numbers: an uploaded file is data, not a request.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from driftline.runtime.json_numbers import non_finite_number


def too_large(limit: int) -> str:
    """The 413 detail naming the limit."""
    return f"request body larger than the limit of {limit} bytes"


def declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length`` as a number; None when absent or not a number."""
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


class BodyLimit:
    """Refuses bodies over ``limit`` bytes (413) and non-finite JSON numbers (422)."""

    def __init__(
        self, app: ASGIApp, *, limit: int, streamed: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        self.streamed = dict(streamed or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload_limit = self._streamed_limit(scope)
        limit = self.limit if upload_limit is None else upload_limit
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await JSONResponse({"detail": too_large(limit)}, status_code=413)(scope, receive, send)
            return
        if upload_limit is not None:
            await self.app(scope, counted(receive, limit), send)
            return
        body, client_gone = await read_at_most(receive, limit)
        if body is None:
            await JSONResponse({"detail": too_large(limit)}, status_code=413)(scope, receive, send)
            return
        problem = non_finite_number(body) if body and is_json(scope) else None
        if problem is not None:
            await JSONResponse({"detail": [problem]}, status_code=422)(scope, receive, send)
            return
        await self.app(scope, replayed(body, client_gone, receive), send)

    def _streamed_limit(self, scope: Scope) -> int | None:
        path: str = scope["path"]
        for key, limit in self.streamed.items():
            method, _, prefix = key.rpartition(" ")
            if scope["method"] == (method or "POST") and path.startswith(prefix):
                return limit
        return None


def is_json(scope: Scope) -> bool:
    """Whether the body is JSON by its content type (none given counts: routes parse JSON)."""
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            return b"json" in value.lower()
    return True


async def read_at_most(receive: Receive, limit: int) -> tuple[bytes | None, bool]:
    """The whole body, or None once it passes ``limit`` (nothing more is read); and whether
    the client went away before the body ended."""
    first = await receive()
    if first["type"] == "http.request" and not first.get("more_body", False):
        whole: bytes = first.get("body", b"")  # the usual case: one message, no copy
        return (whole, False) if len(whole) <= limit else (None, False)
    chunks: list[bytes] = []
    size = 0
    message = first
    while True:
        if message["type"] == "http.disconnect":
            return b"".join(chunks), True
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None, False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False
        message = await receive()


def replayed(body: bytes, disconnected: bool, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` as one message, then defers to the real one."""
    pending: list[Message] = [
        {"type": "http.disconnect"}
        if disconnected
        else {"type": "http.request", "body": body, "more_body": False}
    ]

    async def receive_again() -> Message:
        return pending.pop() if pending else await receive()

    return receive_again


def counted(receive: Receive, limit: int) -> Receive:
    """A ``receive`` that raises 413 (through the app's handlers) once ``limit`` is passed."""
    seen = 0

    async def receive_counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, too_large(limit))
        return message

    return receive_counted

