"""What each benchmark suite needs before it starts: binaries, packages, peer venvs.

``check`` runs every probe of the chosen suites up front, so a missing ``wrk`` stops the run
before any suite has spent minutes measuring. A probe returns ``None`` when its requirement is
met, else how to get it. Peer venvs that ``bench`` builds itself on first use are notes, not
failures, as long as this Python can build a venv.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
Probe = Callable[[], str | None]


@dataclass(frozen=True)
class Requirement:
    """One thing a suite needs; ``probe`` says how to get it when it is missing."""

    what: str
    probe: Probe
    fatal: bool = True


@dataclass(frozen=True)
class Finding:
    """A requirement of ``suite`` that is not met (``fatal``) or will be met on first use."""

    suite: str
    what: str
    how: str
    fatal: bool


class PrerequisiteError(RuntimeError):
    """A suite cannot run here; the message names what is missing and how to get it."""


def module(name: str, install: str) -> Requirement:
    """A Python package importable from this venv."""

    def probe() -> str | None:
        return None if importlib.util.find_spec(name) else f"pip install {install}"

    return Requirement(f"Python package {name}", probe)


def binary(name: str, install: str) -> Requirement:
    """An executable on PATH."""

    def probe() -> str | None:
        return None if shutil.which(name) else install

    return Requirement(f"`{name}` on PATH", probe)


def peer_venv(label: str, folder: Path) -> Requirement:
    """A peer's venv that ``bench`` builds on first use (needs the package index then)."""

    def probe() -> str | None:
        if (folder / "bin" / "python").exists():
            return None
        return f"built on first use in {folder} (about a minute; needs the package index)"

    return Requirement(f"{label} venv", probe, fatal=False)


def venv_builder() -> Requirement:
    """``python -m venv`` with pip, to build the peer venvs."""

    def probe() -> str | None:
        found = importlib.util.find_spec("ensurepip")
        return None if found else "apt-get install python3-venv (the peers' venvs need ensurepip)"

    return Requirement("venv with pip (ensurepip)", probe)


def stack_binaries() -> Requirement:
    """PostgreSQL, tansu, rclone and moto_server for ``driftline.stack``'s local stack."""

    def probe() -> str | None:
        from driftline.stack import broker, brokerlog, postgres, s3
        from driftline.stack.errors import StackError

        problems = []
        for find in (
            postgres.pg_bin_dir,
            broker.tansu_bin,
            s3.rclone_bin,
            brokerlog.moto_server_bin,
        ):
            try:
                find()
            except StackError as exc:
                problems.append(str(exc))
        return "; ".join(problems) or None

    return Requirement("local stack binaries (PostgreSQL, tansu, rclone, moto_server)", probe)


WRK = binary("wrk", "apt-get install wrk (Debian/Ubuntu) or brew install wrk (macOS)")
MLFLOW_VENV = peer_venv("MLflow peer", ROOT / "bench" / ".peers" / "mlflow-venv")
MLSERVER_VENV = peer_venv("MLServer peer", ROOT / "bench" / ".peers" / "mlserver-venv")
EVIDENTLY_VENV = peer_venv("Evidently peer", ROOT / ".driftline" / "evidently-venv")

REQUIREMENTS: dict[str, tuple[Requirement, ...]] = {
    "codec": (module("cloudevents", "cloudevents"),),
    "validation": (module("pandera", "pandera"),),
    "registry": (WRK, stack_binaries(), venv_builder(), MLFLOW_VENV),
    "training": (stack_binaries(), venv_builder(), MLFLOW_VENV),
    "predict": (
        WRK,
        stack_binaries(),
        venv_builder(),
        MLSERVER_VENV,
        module("onnxruntime", "onnxruntime (the project's onnx extra)"),
        module("skl2onnx", "skl2onnx (the project's onnx extra)"),
    ),
    "drift": (module("scipy", "scipy"), venv_builder(), EVIDENTLY_VENV),
    "workers": (WRK, stack_binaries(), module("sklearn", "scikit-learn")),
}


def check(
    suites: Iterable[str], requirements: Mapping[str, Sequence[Requirement]] | None = None
) -> list[Finding]:
    """Every unmet requirement of ``suites`` (each probe runs once per suite)."""
    table = REQUIREMENTS if requirements is None else requirements
    found = []
    for suite in suites:
        for need in table.get(suite, ()):
            how = need.probe()
            if how is not None:
                found.append(Finding(suite, need.what, how, need.fatal))
    return found


def describe(findings: Iterable[Finding]) -> list[str]:
    """One line per finding: missing ones first, then what will be built on first use."""
    ordered = sorted(findings, key=lambda f: not f.fatal)
    return [f"{'missing' if f.fatal else 'note'}: [{f.suite}] {f.what}: {f.how}" for f in ordered]


def require(
    suites: Iterable[str], requirements: Mapping[str, Sequence[Requirement]] | None = None
) -> list[str]:
    """The notes for ``suites``; ``PrerequisiteError`` listing all that is missing, if any."""
    findings = check(suites, requirements)
    if any(f.fatal for f in findings):
        lines = describe(findings)
        raise PrerequisiteError(
            "benchmark prerequisites missing; no suite was run:\n" + "\n".join(lines)
        )
    return describe(findings)
