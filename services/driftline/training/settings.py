"""Settings of the training service: worker pool, leases and limits of one run."""

from __future__ import annotations

import os
import socket

from pydantic import Field

from driftline.runtime.logging import get_logger
from driftline.runtime.settings import RuntimeSettings, ServiceSection
from driftline.training.confinement import ProcessLimits
from driftline.training.sandbox import RunAs, python_unreadable_by, run_as_identity

log = get_logger(__name__)


class TrainingSection(ServiceSection):
    """HTTP binding plus the worker pool, the job lease and the limits of one run."""

    port: int = Field(8103, ge=0, le=65535, description="HTTP port of the service (0: any free).")
    max_workers: int = Field(1, ge=1, le=64, description="Training processes run in parallel.")
    lease_s: float = Field(
        120.0, gt=0, description="A running job not renewed for this long is reclaimed."
    )
    worker_id: str | None = Field(
        None,
        max_length=255,
        description="Identity of this replica's worker, stable across restarts and never "
        "shared by two replicas (default: host name and HTTP port; `driftline up` sets one "
        "per replica slot); on start it requeues the jobs it held.",
    )
    timeout_s: float = Field(3600.0, gt=0, description="Longest one training run may take.")
    max_artifact_bytes: int = Field(
        256 * 1024 * 1024,
        gt=0,
        description="Largest file a tracked run may upload as an artifact (Driftline's and "
        "MLflow's artifact PUT), and largest submitted model file (POST /v1/submissions); "
        "other request bodies keep max_body_bytes.",
    )
    poll_interval_s: float = Field(1.0, gt=0, description="Idle poll interval of the worker.")
    max_attempts: int = Field(
        3, ge=1, description="Claims of one job (crashed workers) before it fails."
    )
    max_rows: int = Field(
        5_000_000, gt=0, description="Most rows a dataset may have (else resource_limit)."
    )
    max_memory_bytes: int = Field(
        0,
        ge=0,
        description="Address-space limit (RLIMIT_AS) of one training process in bytes; past "
        "it allocations fail and the run fails with resource_limit. 0: none. Counts virtual "
        "memory: a small fit already maps about 2 GB (1.7 GB peak with one thread), so leave "
        "room above the data's size.",
    )
    max_cpu_s: int = Field(
        0,
        ge=0,
        description="CPU seconds (all threads) one training process may use (RLIMIT_CPU); "
        "past it the kernel kills it and the run fails with resource_limit. 0: none.",
    )
    run_as_user: str = Field(
        "nobody",
        max_length=64,
        description="OS user (name or uid) training processes run as when the service runs "
        "as root, with that user's group only: they then cannot read the service's files "
        "(stack.env, tokens, keys) or its processes. Empty: the service's user. Ignored "
        "when the service is not root (it cannot change user); a missing user stops the "
        "start; a user who cannot read this Python's modules is not used (warned at every "
        "start).",
    )
    max_labelled_rows: int = Field(
        100_000,
        ge=0,
        description="Most labelled production rows a drift retrain adds (the newest; 0: none).",
    )
    production_retention_days: float = Field(
        90.0, gt=0, description="Predictions and labels older than this are forgotten."
    )
    max_batch_bytes: int = Field(
        256 * 1024 * 1024, gt=0, description="Largest prediction batch object read."
    )


def process_limits(section: TrainingSection) -> ProcessLimits:
    """The limits every training process runs under."""
    return ProcessLimits(
        memory_bytes=section.max_memory_bytes,
        cpu_s=section.max_cpu_s,
        run_as=_usable(run_as_identity(section.run_as_user), section.run_as_user),
    )


def _usable(run_as: RunAs | None, user: str) -> RunAs | None:
    """``run_as``, unless that user cannot read this Python's modules: then the service's
    user (training would fail on its first lazy import), with a warning at every start."""
    blocked = python_unreadable_by(run_as) if run_as is not None else None
    if blocked is None:
        return run_as
    log.warning(
        "training processes run as root: training.run_as_user cannot read this Python's "
        "modules, so they could read the service's credentials and files; install Python "
        "where that user can read it, or name a user who can",
        run_as_user=user,
        unreadable=str(blocked),
    )
    return None


def worker_identity(section: TrainingSection, host: str | None = None) -> str:
    """The worker's identity: ``worker_id``, else ``host:port`` (one replica per port).

    With ``port=0`` the port says nothing, so the process id stands in: such a worker's
    crashed jobs wait for their lease to expire instead of being requeued on restart.
    """
    if section.worker_id:
        return section.worker_id
    where = section.port or f"pid{os.getpid()}"
    return f"{host or socket.gethostname()}:{where}"


class TrainingSettings(RuntimeSettings):
    """Runtime settings whose ``training`` section carries the worker settings."""

    training: TrainingSection = Field(default_factory=TrainingSection)


def training_section(section: ServiceSection) -> TrainingSection:
    """The section as a ``TrainingSection`` (plain runtime settings get the defaults)."""
    if isinstance(section, TrainingSection):
        return section
    return TrainingSection.model_validate(section.model_dump())
