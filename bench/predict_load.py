"""HTTP load for the benchmarks: ``wrk`` (a separate C process) POSTing one JSON body, or GETs.

``wrk`` keeps a fixed number of connections busy (closed loop) for a fixed time and reports
requests, non-2xx answers and the latency distribution; a Lua ``done`` hook prints them as
one JSON line that ``parse`` reads. Debian ships it (``apt-get install wrk``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARK = "WRKJSON "
POST_BODY = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("{body}", "rb")
wrk.body = f:read("*a")
f:close()
"""
SCRIPT = """\
{request}done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{mark}{{"requests": %d, "duration_us": %d, "non2xx": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p99_us": %d}}\\n', summary.requests,
    summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


class LoadError(RuntimeError):
    """The load generator is missing or its run went wrong (errors, no answers)."""


@dataclass(frozen=True)
class Load:
    """One load run: throughput and latency percentiles of successful closed-loop requests."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_s: float = 0.0
    """Server CPU seconds per request, when the caller measured it."""
    db_cpu_s: float = 0.0
    """Database server CPU seconds per request, when the caller measured it."""
    broker_cpu_s: float = 0.0
    """Kafka broker CPU seconds per request (with the store of its log), when measured."""

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds


def parse(output: str) -> Load:
    """The ``Load`` from wrk's output; ``LoadError`` if any request failed or none was made."""
    line = next((ln for ln in output.splitlines() if ln.startswith(MARK)), None)
    if line is None:
        raise LoadError(f"wrk printed no summary:\n{output[-2000:]}")
    found: dict[str, Any] = json.loads(line[len(MARK) :])
    if found["non2xx"] or found["socket_errors"] or not found["requests"]:
        raise LoadError(f"failed requests under load: {found}")
    return Load(
        requests=found["requests"],
        seconds=found["duration_us"] / 1e6,
        p50_ms=found["p50_us"] / 1000,
        p99_ms=found["p99_us"] / 1000,
    )


def wrk_binary() -> str:
    """Path of ``wrk``; ``LoadError`` naming how to install it."""
    found = shutil.which("wrk")
    if found is None:
        raise LoadError("wrk is not installed: apt-get install wrk (Debian/Ubuntu)")
    return found


def run_load(
    url: str,
    body: bytes | None,
    *,
    connections: int,
    seconds: float,
    threads: int = 1,
    headers: dict[str, str] | None = None,
) -> Load:
    """POST ``body`` (GET when None) to ``url`` over ``connections`` connections for ``seconds``."""
    with tempfile.TemporaryDirectory(prefix="driftline-wrk-") as folder:
        body_path, script = Path(folder) / "body.json", Path(folder) / "load.lua"
        request = ""
        if body is not None:
            body_path.write_bytes(body)
            request = POST_BODY.format(body=body_path)
        request += "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in (headers or {}).items())
        script.write_text(SCRIPT.format(request=request, mark=MARK))
        command = [
            wrk_binary(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
            "--timeout", "10s", "-s", str(script), url,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    return parse(done.stdout + done.stderr)
