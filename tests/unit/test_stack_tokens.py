"""The local stack's tokens: one per role, private to the owner, handed to every service, and
picked by the CLI for the role a command needs (an explicit token wins)."""

from __future__ import annotations

import json
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from driftline.cli.credentials import auth_headers, bearer_token
from driftline.cli.main import app
from driftline.runtime.auth_tokens import parse_tokens
from driftline.stack.info import StackInfo, external_stack_from_env
from driftline.stack.tokens import STACK_PRINCIPALS, ensure_tokens, role_tokens, tokens_path


def test_the_stack_writes_one_private_token_per_role_and_keeps_them(tmp_path: Path) -> None:
    path = ensure_tokens(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    tokens = role_tokens(path)
    assert set(tokens) == {"viewer", "publisher", "approver", "admin"}
    assert len(set(tokens.values())) == 4
    assert all(len(t) >= 40 for t in tokens.values())
    principals = parse_tokens(path.read_text())  # the services read the same file
    assert {p.actor for p in principals.values()} == set(STACK_PRINCIPALS.values())
    path.chmod(0o644)
    assert role_tokens(ensure_tokens(tmp_path)) == tokens  # a second `stack up` keeps them
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_incomplete_tokens_file_is_written_anew(tmp_path: Path) -> None:
    tokens_path(tmp_path).write_text("old user:publisher publisher\n")
    assert set(role_tokens(ensure_tokens(tmp_path))) == set(STACK_PRINCIPALS)


def test_every_service_of_the_stack_is_pointed_at_the_tokens_file(tmp_path: Path) -> None:
    info = StackInfo("k:1", "postgresql+asyncpg://x", "s3:1", "a", "b", home=tmp_path)
    assert info.service_env("registry")["DRIFTLINE_AUTH__TOKENS_FILE"] == str(tokens_path(tmp_path))
    external = external_stack_from_env(
        {
            "DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS": "k:1",
            "DRIFTLINE_DATABASE__URL": "postgresql+asyncpg://x",
            "DRIFTLINE_STORAGE__ENDPOINT": "s3:1",
            "DRIFTLINE_AUTH__TOKENS_FILE": "/run/secrets/tokens",
        }
    )
    assert external is not None
    assert external.env()["DRIFTLINE_AUTH__TOKENS_FILE"] == "/run/secrets/tokens"


def test_the_cli_picks_the_role_token_unless_one_is_given(tmp_path: Path) -> None:
    tokens = role_tokens(ensure_tokens(tmp_path))
    assert bearer_token("approver", environ={}, home=tmp_path) == tokens["approver"]
    assert bearer_token("approver", environ={"DRIFTLINE_TOKEN": "env"}, home=tmp_path) == "env"
    assert bearer_token("approver", "flag", environ={"DRIFTLINE_TOKEN": "e"}, home=tmp_path) == (
        "flag"
    )
    assert auth_headers("publisher", environ={}, home=tmp_path / "none") == {}


@pytest.fixture
def registry() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A stand-in registry on a loopback port that records each request's headers."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append({k.lower(): v for k, v in self.headers.items()})
            body = json.dumps({"decided_by": "user:approver"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()


def test_approve_sends_the_approver_token_and_no_role_header(
    tmp_path: Path, registry: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen = registry
    tokens = role_tokens(ensure_tokens(tmp_path))
    monkeypatch.setenv("DRIFTLINE_HOME", str(tmp_path))
    monkeypatch.delenv("DRIFTLINE_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["models", "approve", "churn", "2", "--url", url])
    assert result.exit_code == 0, result.output
    assert "approved by user:approver" in result.output
    assert seen[0]["authorization"] == f"Bearer {tokens['approver']}"
    assert "x-driftline-role" not in seen[0]
    flagged = CliRunner().invoke(
        app, ["models", "reject", "churn", "2", "--url", url, "--token", "mine"]
    )
    assert flagged.exit_code == 0, flagged.output
    assert seen[1]["authorization"] == "Bearer mine"


def test_stack_tokens_prints_the_file_or_the_inline_entries_for_compose(tmp_path: Path) -> None:
    printed = CliRunner().invoke(app, ["stack", "tokens", "--home", str(tmp_path)])
    assert printed.exit_code == 0, printed.output
    assert printed.output.strip() == str(tokens_path(tmp_path))
    inline = CliRunner().invoke(app, ["stack", "tokens", "--home", str(tmp_path), "--inline"])
    principals = parse_tokens(inline.output.strip())  # what DRIFTLINE_AUTH__TOKENS accepts
    assert {p.role for p in principals.values()} == set(STACK_PRINCIPALS)
    assert role_tokens(tokens_path(tmp_path))["admin"] in inline.output  # the same tokens
