"""Headless Chromium driven over the DevTools protocol on a pipe, and a console app served
over HTTP in a thread: browser tests with no websocket client and no downloaded browser.

Chromium's ``--remote-debugging-pipe`` reads NUL-separated JSON commands on fd 3 and writes
answers and events on fd 4; :class:`Browser` speaks that, one tab (flat session) at a time.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--no-default-browser-check", "--disable-extensions",
    "--window-size=1280,900",
]  # fmt: skip
TIMEOUT_S = 20.0


def chromium_or_skip() -> str:
    """The browser; in CI (which installs it) a missing one fails, elsewhere it skips."""
    if not Path(CHROMIUM).exists():
        message = f"headless Chromium needed at {CHROMIUM} (apt install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@contextlib.contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """``app`` on a free 127.0.0.1 port in a thread, for as long as the block runs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT_S
    while not server.started:
        assert thread.is_alive(), "the console stopped"
        assert time.monotonic() < deadline, "the console did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(TIMEOUT_S)
        sock.close()


def _high(fd: int) -> int:
    """A copy of ``fd`` numbered 10 or more, so placing the pipes on 3 and 4 clobbers none."""
    copy = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return copy


class Browser:
    """One headless Chromium; ``open`` a tab, then ``send`` commands to it and read events."""

    def __init__(self, profile_dir: Path) -> None:
        to_chrome_r, self._to_chrome = (_high(fd) for fd in os.pipe())
        self._from_chrome, from_chrome_w = (_high(fd) for fd in os.pipe())

        def place_pipes() -> None:  # in the child, before exec: fd 3 in, fd 4 out
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self._process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile_dir}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=place_pipes, close_fds=False,  # dup2 leaves 3 and 4 inheritable;
        )  # fmt: skip  # Python's own descriptors are not inheritable (PEP 446), so none leak
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id = 0
        self._answers: dict[int, queue.Queue[dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.session: str | None = None

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._from_chrome, 65536):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                with self._lock:
                    waiting = self._answers.get(message.get("id", -1))
                    if waiting is None:
                        self.events.append(message)
                if waiting is not None:
                    waiting.put(message)

    def send(self, method: str, session: bool = True, **params: Any) -> dict[str, Any]:
        """Run one DevTools command (in the open tab unless ``session=False``); its result."""
        with self._lock:
            self._next_id += 1
            ident = self._next_id
            self._answers[ident] = queue.Queue()
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        answer = self._answers[ident].get(timeout=TIMEOUT_S)
        assert "error" not in answer, f"{method}: {answer['error']}"
        return dict(answer.get("result", {}))

    def open(self) -> None:
        """A fresh tab with the page, runtime and log domains reporting."""
        target = self.send("Target.createTarget", session=False, url="about:blank")
        attached = self.send(
            "Target.attachToTarget", session=False, targetId=target["targetId"], flatten=True
        )
        self.session = attached["sessionId"]
        for domain in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.send(domain)

    def event_count(self) -> int:
        with self._lock:
            return len(self.events)

    def wait_for_event(self, method: str, after: int) -> dict[str, Any]:
        """The first ``method`` event of this tab received after the ``after``-th event."""
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            with self._lock:
                for event in self.events[after:]:
                    if event.get("method") == method and event.get("sessionId") == self.session:
                        return event
            time.sleep(0.02)
        raise AssertionError(f"no {method} within {TIMEOUT_S} s")

    def goto(self, url: str) -> None:
        """Load ``url`` and wait for its load event."""
        mark = self.event_count()
        self.send("Page.navigate", url=url)
        self.wait_for_event("Page.loadEventFired", mark)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        found = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        assert "exceptionDetails" not in found, found["exceptionDetails"]
        return found["result"].get("value")

    def wait_until(self, expression: str) -> Any:
        """Poll ``expression`` until it is truthy; its value. A failed evaluation is retried
        (the page may be reloading itself) and reported if it never comes true."""
        deadline, failed = time.monotonic() + TIMEOUT_S, None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except AssertionError as exc:  # no context while a page loads
                value, failed = None, exc
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"never true: {expression} (last failure: {failed})")

    def errors(self, after: int = 0) -> list[str]:
        """Uncaught exceptions, console.error calls and error log entries (CSP, 404s) received
        after the ``after``-th event."""
        found = []
        with self._lock:
            events = self.events[after:]
        for event in events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(json.dumps(params["exceptionDetails"])[:500])
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                found.append(json.dumps(params.get("args"))[:500])
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(f"{params['entry'].get('url')}: {params['entry'].get('text')}")
        return found

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.send("Browser.close", session=False)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_chrome)
        self._reader.join(5)
        os.close(self._from_chrome)
