"""Run Driftline services as separate processes against a stack, and wait until they are ready."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from driftline.runtime.services import SERVICE_PORTS
from driftline.stack.errors import StackError
from driftline.stack.info import StackInfo
from driftline.stack.procs import ProcRef, free_port, is_alive, port_is_free, spawn, stop_all
from driftline.stack.state import load_state
from driftline.stack.supervisor import LocalStack
from driftline.stack.tokens import role_tokens

SERVICE_GRACE_S = 25.0


@dataclass(frozen=True)
class ServiceProcess:
    """A service process we started."""

    name: str
    url: str
    ref: ProcRef
    log_path: Path


WORKER_ID_VAR = "DRIFTLINE_TRAINING__WORKER_ID"

PORTS_VAR = "DRIFTLINE_SERVICE_PORTS"
"""``free``: start services on free ports instead of their defaults (parallel test runs)."""


def _port_for(name: str, taken: set[int]) -> int:
    if os.environ.get(PORTS_VAR) == "free":
        return free_port(taken)
    default = SERVICE_PORTS[name]
    return default if default not in taken and port_is_free(default) else free_port(taken)


def _registered_ports(stack: LocalStack) -> set[int]:
    """Ports of the service processes the stack already knows (they may not listen yet)."""
    ports = set()
    for record in load_state(stack.home).services.values():
        port = record.url.rsplit(":", 1)[-1]
        if port.isdigit():
            ports.add(int(port))
    return ports


def start_services(
    stack: LocalStack,
    info: StackInfo,
    names: Sequence[str],
    extra_env: dict[str, str] | None = None,
) -> list[ServiceProcess]:
    """Spawn ``driftline serve NAME`` for each name, registered with the stack.

    ``NAME#REPLICA`` (e.g. ``training#2``) starts another replica of a service: same consumer
    groups, its own port, log file and entry in ``driftline stack status``.
    """
    started: list[ServiceProcess] = []
    taken = _registered_ports(stack)
    for key in names:
        port = _port_for(key.split("#", 1)[0], taken)
        taken.add(port)
        started.append(_launch(stack, info, key, port, extra_env))
    return started


def restart_service(
    stack: LocalStack,
    info: StackInfo,
    process: ServiceProcess,
    extra_env: dict[str, str] | None = None,
) -> ServiceProcess:
    """Start a service again under its name, on its port (its URL and worker id stay);
    the caller records it (``LocalStack.replace_service``)."""
    port = int(process.url.rsplit(":", 1)[-1])
    return _launch(stack, info, process.name, port, extra_env, register=False)


def worker_id(home: Path, key: str) -> str:
    """The training worker id of one replica slot: the same after a restart, unique per slot.

    Host, home folder (hashed) and slot name: two stacks on one host, or two replicas of one
    stack, never share an id, so a restarted worker requeues only the jobs it held itself.
    """
    digest = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:8]
    return f"{socket.gethostname()}:{digest}:{key}"


def _launch(
    stack: LocalStack,
    info: StackInfo,
    key: str,
    port: int,
    extra_env: dict[str, str] | None,
    register: bool = True,
) -> ServiceProcess:
    """Spawn and register one ``driftline serve`` process for the slot ``key``."""
    name = key.split("#", 1)[0]
    env = {
        **info.service_env(name),
        "DRIFTLINE_HOME": str(stack.home),
        f"DRIFTLINE_{name.upper()}__PORT": str(port),
        **({WORKER_ID_VAR: worker_id(stack.home, key)} if name == "training" else {}),
        **(console_env(stack, info) if name == "console" else {}),
        **(extra_env or {}),
    }
    log_path = stack.home / "logs" / f"service-{key.replace('#', '-')}.log"
    ref = spawn([sys.executable, "-m", "driftline", "serve", name], log_path, env)
    url = f"http://127.0.0.1:{port}"
    if register:
        stack.register_service(key, ref.pid, url)
    return ServiceProcess(key, url, ref, log_path)


def console_env(stack: LocalStack, info: StackInfo) -> dict[str, str]:
    """Where the console finds the services already registered (it starts last), and the
    viewer token it reads their APIs with."""
    urls = {k: r.url for k, r in load_state(stack.home).services.items() if "#" not in k}
    env = {"DRIFTLINE_CONSOLE__SERVICE_URLS": json.dumps(urls)}
    tokens_file = info.auth_tokens_file
    if tokens_file is not None and tokens_file.exists():
        viewer = role_tokens(tokens_file).get("viewer")
        if viewer:
            env["DRIFTLINE_CONSOLE__SERVICE_TOKEN"] = viewer
    return env


def readiness(url: str, timeout_s: float = 5.0) -> tuple[int, dict[str, object]]:
    """GET ``url``/readyz → (status code, body); (0, {}) when nothing answers."""
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=timeout_s) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")
    except (OSError, ValueError):
        return 0, {}


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_until_ready(
    processes: Sequence[ServiceProcess],
    timeout_s: float = 120.0,
    on_ready: Callable[[ServiceProcess], None] | None = None,
) -> None:
    """Poll every ``/readyz`` until 200; raise naming the service that is not ready."""
    pending = {p.name: p for p in processes}
    deadline = time.monotonic() + timeout_s
    while pending:
        for name, process in list(pending.items()):
            if not is_alive(process.ref):
                raise StackError(
                    f"service {name} exited; last log lines:\n{_tail(process.log_path)}"
                )
            status, _ = readiness(process.url)
            if status == 200:
                del pending[name]
                if on_ready:
                    on_ready(process)
        if pending and time.monotonic() > deadline:
            details = {n: readiness(p.url)[1].get("failing") for n, p in pending.items()}
            raise StackError(f"services not ready after {timeout_s:.0f}s: {details}")
        if pending:
            time.sleep(0.3)


def first_dead(processes: Sequence[ServiceProcess]) -> str | None:
    """Why a started service is gone (name, pid, log file), or None while all are alive."""
    for process in processes:
        if not is_alive(process.ref):
            return (
                f"because service {process.name} (pid {process.ref.pid}) is no longer running; "
                f"its log: {process.log_path}"
            )
    return None


def stop_services(stack: LocalStack, processes: Sequence[ServiceProcess]) -> None:
    """SIGTERM every service, SIGKILL after the grace period, and unregister them."""
    stop_all([p.ref for p in processes], SERVICE_GRACE_S)
    for process in processes:
        stack.unregister_service(process.name)
