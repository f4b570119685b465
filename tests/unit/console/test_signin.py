"""Sign-in with the platform's bearer tokens: header once, then an HttpOnly cookie."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

from driftline.console.web.session import COOKIE
from tests.unit.console.conftest import VIEWER_TOKEN, tokens


def test_a_page_without_a_token_sends_the_browser_to_sign_in_and_back(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(verify=tokens())
    answer = client.get("/models/churn-clf", params={"x": "1"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=%2Fmodels%2Fchurn-clf%3Fx%3D1"
    form = client.get("/signin", params={"next": "/models/churn-clf?x=1"}).text
    assert 'data-next="/models/churn-clf?x=1"' in form


def test_a_token_in_the_header_reads_pages_and_the_session_stores_it_httponly(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(verify=tokens())
    bearer = {"Authorization": f"Bearer {VIEWER_TOKEN}"}
    assert client.get("/", headers=bearer).status_code == 200
    session = client.get("/session", headers=bearer)
    assert session.json() == {"actor": "user:viewer", "role": "viewer"}
    cookie = session.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={VIEWER_TOKEN};")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    page = client.get("/")  # the client now sends the cookie only
    assert page.status_code == 200
    assert "user:viewer (viewer)" in page.text


def test_an_unknown_token_is_refused_and_a_forged_cookie_signs_nobody_in(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(verify=tokens())
    assert client.get("/session", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/session").status_code == 401
    client.cookies.set(COOKIE, "forged")
    assert client.get("/").status_code == 303
    spoofed = client.get("/", headers={"X-Driftline-Actor": "user:admin"})
    assert spoofed.status_code == 303  # identity headers from the client are dropped


def test_sign_out_clears_the_cookie(make_client: Callable[..., TestClient]) -> None:
    client = make_client(verify=tokens())
    client.get("/session", headers={"Authorization": f"Bearer {VIEWER_TOKEN}"})
    out = client.get("/signout")
    assert out.status_code == 303
    assert "Max-Age=0" in out.headers["set-cookie"]


def test_sign_in_never_redirects_off_the_console(make_client: Callable[..., TestClient]) -> None:
    client = make_client(verify=tokens())
    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        assert 'data-next="/"' in client.get("/signin", params={"next": target}).text


def test_without_bearer_auth_pages_are_open(make_client: Callable[..., TestClient]) -> None:
    assert make_client().get("/").status_code == 200


def test_the_live_feed_needs_sign_in_too(make_client: Callable[..., TestClient]) -> None:
    assert make_client(verify=tokens()).get("/feed").status_code == 303
