"""MLflow as a measured peer: its own venv, a tracking server on SQLite, its REST API.

MLflow cannot join the project venv (it pins ``pyarrow<26``; constraints.txt pins 26), so the
benchmark installs it once into ``bench/.peers/mlflow-venv`` (git-ignored) and runs the
server and MLflow client code there. The benchmark talks to the server over REST with httpx.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from driftline.stack.procs import ProcRef, free_port, spawn, stop

HERE = Path(__file__).resolve().parent
VENV = HERE / ".peers" / "mlflow-venv"
MLFLOW = "mlflow==3.17.2"  # the newest release whose every part is on the index
API = "/api/2.0/mlflow"
# The GenAI job runner (seven huey consumers polling in the background) has no part in
# tracking or the registry; left on, it takes a good part of a core on a 2-core machine.
SERVER_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


def venv_python() -> Path:
    """The MLflow venv's interpreter."""
    return VENV / "bin" / "python"


def ensure_venv(say: Any = print) -> Path:
    """Create the MLflow venv on first use (same scikit-learn as the project); its python."""
    python = venv_python()
    marker = VENV / ".installed"
    if marker.exists() and marker.read_text() == requirements():
        return python
    say(f"creating the MLflow peer venv in {VENV} ({MLFLOW}, once; about a minute)…")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *requirements().split()], check=True
    )
    marker.write_text(requirements())
    return python


def requirements() -> str:
    """What the venv holds: MLflow plus the project's scikit-learn, pandas and pyarrow."""
    from importlib.metadata import version

    same = [f"{name}=={version(name)}" for name in ("scikit-learn", "pandas")]
    return " ".join([MLFLOW, *same])


def mlflow_version() -> str:
    """The installed MLflow version (from the venv's metadata)."""
    found = subprocess.run(
        [str(venv_python()), "-c", "import importlib.metadata as m; print(m.version('mlflow'))"],
        check=True,
        capture_output=True,
        text=True,
    )
    return found.stdout.strip()


@dataclass(frozen=True)
class MLflowServer:
    """A running ``mlflow server``: its URL and process."""

    url: str
    ref: ProcRef
    log_path: Path


@contextlib.contextmanager
def mlflow_server(home: Path, workers: int = 1) -> Iterator[MLflowServer]:
    """``mlflow server`` on SQLite with proxied artifacts under ``home``; stopped on exit."""
    python = ensure_venv()
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cmd = [
        str(python), "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{home / 'mlflow.db'}",
        "--artifacts-destination", str(home / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--uvicorn-opts", "--no-access-log",
    ]  # fmt: skip
    log_path = home / "mlflow-server.log"
    ref = spawn(cmd, log_path, env=SERVER_ENV)
    server = MLflowServer(f"http://127.0.0.1:{port}", ref, log_path)
    try:
        wait_healthy(server)
        yield server
    finally:
        stop(ref, grace=10.0)


def wait_healthy(server: MLflowServer, timeout_s: float = 180.0) -> None:
    """Poll ``/health`` until the server answers (its first start migrates the database)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/health", timeout=2.0).status_code == 200:
                return
        time.sleep(0.5)
    tail = server.log_path.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"mlflow server not healthy after {timeout_s:.0f}s:\n{tail}")


class MLflowRegistry:
    """The registry operations the benchmark measures, as MLflow REST calls."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self.client.request(method, f"{API}/{path}", **kwargs)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def create_model(self, name: str) -> None:
        """POST registered-models/create."""
        await self._call("POST", "registered-models/create", json={"name": name})

    async def create_run(self, experiment_id: str = "0") -> tuple[str, str]:
        """POST runs/create → (run id, artifact URI)."""
        body = await self._call("POST", "runs/create", json={"experiment_id": experiment_id})
        info = body["run"]["info"]
        return info["run_id"], info["artifact_uri"]

    async def register_version(self, name: str, source: str, run_id: str) -> int:
        """POST model-versions/create → the new version number."""
        payload = {"name": name, "source": source, "run_id": run_id}
        body = await self._call("POST", "model-versions/create", json=payload)
        return int(body["model_version"]["version"])

    async def set_alias(self, name: str, alias: str, version: int) -> None:
        """POST registered-models/alias."""
        payload = {"name": name, "alias": alias, "version": str(version)}
        await self._call("POST", "registered-models/alias", json=payload)

    async def read_alias(self, name: str, alias: str) -> int:
        """GET registered-models/alias → the version the alias points at."""
        body = await self._call(
            "GET", "registered-models/alias", params={"name": name, "alias": alias}
        )
        return int(body["model_version"]["version"])


def run_script(
    script: Path, *args: str, env: dict[str, str] | None = None, timeout_s: float = 1800.0
) -> Any:
    """Run ``script`` with the MLflow venv's python; its last stdout line parsed as JSON."""
    done = subprocess.run(
        [str(venv_python()), str(script), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={"MLFLOW_DISABLE_TELEMETRY": "true", "PATH": "/usr/bin:/bin", **(env or {})},
    )
    if done.returncode != 0:
        raise RuntimeError(f"{script.name} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
