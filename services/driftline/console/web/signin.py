"""Sign in and out of the console, and its vendored static assets."""

from __future__ import annotations

import re
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from driftline.console.deps import ConsoleDeps
from driftline.console.web.pages import identity, page_renderer
from driftline.console.web.session import cookie_header

ASSETS = {
    "htmx.min.js": "text/javascript",
    "htmx-sse.js": "text/javascript",
    "console.js": "text/javascript",
    "console.css": "text/css",
}
"""Every file the pages load; nothing comes from a CDN."""
_COOKIE_SAFE = re.compile(r"^[A-Za-z0-9._~+/=-]{1,4096}$")


def _local(target: str) -> str:
    """``next`` only ever leads to a page of this console (no open redirect)."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


def signin_router(deps: ConsoleDeps) -> APIRouter:
    """``/signin`` (the form), ``/session`` (header token → cookie), ``/signout``, ``/static``."""
    router = APIRouter(tags=["console"], include_in_schema=False)
    render = page_renderer(deps)

    @router.get("/signin", response_class=HTMLResponse)
    async def signin(
        request: Request, next: Annotated[str, Query(max_length=2048)] = "/"
    ) -> HTMLResponse:
        return render(request, "signin.html", next=_local(next), required=deps.sign_in_required)

    @router.get("/session")
    async def session(request: Request) -> JSONResponse:
        """Called by the sign-in page with ``Authorization: Bearer``; stores it as a cookie."""
        user = identity(request)
        authorization = request.headers.get("authorization", "")
        token = authorization.partition(" ")[2].strip()
        if user is None or not _COOKIE_SAFE.match(token):
            raise HTTPException(401, "send a valid token as Authorization: Bearer <token>")
        response = JSONResponse(user)
        response.headers["Set-Cookie"] = cookie_header(token, secure=deps.section.secure_cookie)
        response.headers["Cache-Control"] = "no-store"
        return response

    @router.get("/signout")
    async def signout() -> RedirectResponse:
        response = RedirectResponse("/signin", status_code=303)
        response.headers["Set-Cookie"] = cookie_header(
            "", secure=deps.section.secure_cookie, max_age=0
        )
        return response

    @router.get("/static/{name}")
    async def static(name: str) -> Response:
        if name not in ASSETS:
            raise HTTPException(404, "no such asset")
        body = resources.files("driftline.console").joinpath("static", name).read_bytes()
        return Response(
            body, media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=3600"}
        )

    return router
