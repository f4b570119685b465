"""MLServer as a measured peer: its own venv, the scikit-learn runtime, the V2 REST API.

MLServer 1.7 does not resolve inside the project's constraints (pip falls back to 1.2 with
a 1.7 runtime), so the benchmark installs ``mlserver`` + ``mlserver-sklearn`` once into
``bench/.peers/mlserver-venv`` (git-ignored) with the project's scikit-learn, and starts
``mlserver start DIR`` there on a joblib file of the same fitted model.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from driftline.stack.procs import free_port, spawn, stop

HERE = Path(__file__).resolve().parent
VENV = HERE / ".peers" / "mlserver-venv"
# uvloop 0.22+ raises in asyncio.get_event_loop() without a loop, which MLServer 1.7's
# parallel workers call at start: with it the default configuration cannot load a model.
# httptools: MLServer's uvicorn parses HTTP with it when installed (as Driftline's does), not
# with the pure-Python h11 it falls back to.
PACKAGES = ("mlserver==1.7.1", "mlserver-sklearn==1.7.1", "uvloop<0.22", "httptools")
MODEL = "cancer"
TUNED = {"parallel_workers": 0, "debug": False, "gzip_enabled": False, "metrics_endpoint": None}
# Per configuration: server settings (settings.json) and model settings (model-settings.json).
# default: MLServer as installed, inference in one separate worker process (parallel_workers=1),
# debug, gzip and Prometheus metrics on. tuned: inference in the server process, no debug, gzip
# or metrics. batching: tuned plus adaptive batching, concurrent requests grouped into one
# predict call (up to 16, the benchmark's connections, waiting at most 2 ms). MLServer runs one
# HTTP (uvicorn) process; it has no HTTP-workers setting.
CONFIGS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "default": ({}, {}),
    "tuned": (TUNED, {}),
    "batching": (TUNED, {"max_batch_size": 16, "max_batch_time": 0.002}),
}


def requirements() -> str:
    """What the venv holds: MLServer, its scikit-learn runtime and the project's versions."""
    from importlib.metadata import version

    same = [f"{name}=={version(name)}" for name in ("scikit-learn", "numpy", "pandas")]
    return " ".join([*PACKAGES, *same])


def ensure_venv(say: Any = print) -> Path:
    """Create the MLServer venv on first use; its ``mlserver`` command."""
    command = VENV / "bin" / "mlserver"
    marker = VENV / ".installed"
    if command.exists() and marker.exists() and marker.read_text() == requirements():
        return command
    say(f"creating the MLServer peer venv in {VENV} (once; about a minute)…")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, *requirements().split()], check=True)
    marker.write_text(requirements())
    return command


def version() -> str:
    """The installed MLServer version."""
    found = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", "import mlserver; print(mlserver.__version__)"],
        check=True,
        capture_output=True,
        text=True,
    )
    return found.stdout.strip()


def write_repository(
    folder: Path, model_path: Path, config: tuple[dict[str, Any], dict[str, Any]]
) -> int:
    """``settings.json`` and ``cancer/model-settings.json`` in ``folder``; the HTTP port."""
    server, model = config
    ports = [free_port()]
    ports += [free_port(set(ports))]
    ports += [free_port(set(ports))]
    settings = {
        "http_port": ports[0], "grpc_port": ports[1], "metrics_port": ports[2],
        "host": "127.0.0.1", **server,
    }  # fmt: skip
    (folder / "settings.json").write_text(json.dumps(settings))
    model_dir = folder / MODEL
    model_dir.mkdir(parents=True, exist_ok=True)
    model_settings = {
        "name": MODEL,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": str(model_path), "version": "v1"},
        **model,
    }
    (model_dir / "model-settings.json").write_text(json.dumps(model_settings))
    return int(ports[0])


def infer_body(matrix: list[list[float]]) -> bytes:
    """A V2 request for ``matrix`` asking for both outputs (labels and probabilities)."""
    body = {
        "inputs": [
            {
                "name": "input-0",
                "shape": [len(matrix), len(matrix[0])],
                "datatype": "FP64",
                "data": [v for row in matrix for v in row],
            }
        ],
        "outputs": [{"name": "predict"}, {"name": "predict_proba"}],
    }
    return json.dumps(body).encode()


@contextlib.contextmanager
def serving(folder: Path, model_path: Path, config: str) -> Iterator[str]:
    """MLServer with ``CONFIGS[config]`` serving the model; yields the infer URL."""
    command = ensure_venv()
    folder.mkdir(parents=True, exist_ok=True)
    port = write_repository(folder, model_path, CONFIGS[config])
    ref = spawn([str(command), "start", str(folder)], folder / "mlserver.log", cwd=folder)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/v2/models/{MODEL}/ready", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                log = (folder / "mlserver.log").read_text()[-3000:]
                raise RuntimeError(f"MLServer did not get ready:\n{log}")
            time.sleep(0.5)
        yield f"{base}/v2/models/{MODEL}/infer"
    finally:
        stop(ref, grace=10.0)
