"""Small HTTP helpers for the demo: JSON in and out, polling until a step happened."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class StepFailedError(Exception):
    """A demo step did not happen."""


@dataclass(frozen=True)
class Credentials:
    """The demo users' bearer tokens by role (none: every call goes without a token)."""

    tokens: Mapping[str, str]

    @classmethod
    def of_stack(cls, tokens_file: Path | None) -> Credentials:
        """``$DRIFTLINE_TOKEN`` for every role, else the stack's tokens file, else none."""
        from driftline.cli.credentials import TOKEN_VAR
        from driftline.stack.tokens import STACK_PRINCIPALS, role_tokens

        if os.environ.get(TOKEN_VAR):
            return cls(dict.fromkeys(STACK_PRINCIPALS, os.environ[TOKEN_VAR]))
        return cls(role_tokens(tokens_file) if tokens_file and tokens_file.exists() else {})

    def headers(self, role: str) -> dict[str, str]:
        """``Authorization`` for a call as ``role`` (no header without a token)."""
        token = self.tokens.get(role)
        return {"Authorization": f"Bearer {token}"} if token else {}


Guard = Callable[[], str | None]
"""Returns why waiting is pointless (e.g. a service process died), or None while all is well."""

_guards: list[Guard] = []


@contextmanager
def guarded_by(guard: Guard) -> Iterator[None]:
    """While inside, every :func:`poll` fails at once when ``guard`` reports a problem."""
    _guards.append(guard)
    try:
        yield
    finally:
        _guards.remove(guard)


def _guard_problem() -> str | None:
    return next((problem for guard in _guards if (problem := guard())), None)


def get_json(url: str) -> Any:
    """GET ``url`` and decode its JSON body."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def post_json(url: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    """POST ``body`` as JSON and decode the JSON answer."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def poll(what: str, check: Callable[[], Any], timeout_s: float = 60.0) -> Any:
    """Call ``check`` until it returns something truthy; raise naming ``what`` on timeout.

    Fails early, still naming ``what``, when an active guard (see :func:`guarded_by`) reports
    that the step can no longer happen.
    """
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if problem := _guard_problem():
            raise StepFailedError(f"{what}: did not happen, {problem}")
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # the service may not answer yet; keep polling
            last_error = exc
        time.sleep(0.3)
    raise StepFailedError(f"{what} (waited {timeout_s:.0f}s; last error: {last_error!r})")
