"""Where a run came from: code version, package versions, python and host."""

from __future__ import annotations

import functools
import platform
import socket
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import driftline

PACKAGES = ("scikit-learn", "pandas", "numpy", "skops", "scipy", "lightgbm", "xgboost")
"""Recorded when installed: a native LightGBM / XGBoost model is read by its library."""


@functools.cache
def git_sha() -> str | None:
    """The checkout's commit, when the code runs from a git working tree."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = result.stdout.strip()
    return sha if result.returncode == 0 and sha else None


def code_version() -> str:
    """``driftline`` package version, plus the git sha when there is one."""
    sha = git_sha()
    return f"{driftline.__version__}+g{sha}" if sha else driftline.__version__


def package_versions() -> dict[str, str]:
    """Versions of python and of the packages a model depends on."""
    versions = {"python": platform.python_version(), "driftline": driftline.__version__}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


@functools.cache
def lineage() -> dict[str, Any]:
    """Everything about the training environment a run records."""
    versions = package_versions()
    return {
        "code_version": code_version(),
        "python": versions["python"],
        "packages": versions,
        "host": socket.gethostname(),
    }
