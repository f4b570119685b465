"""What a training process may use: resource limits, an environment without secrets, a user.

Applied in every training process before it runs anything of the spec's. The process needs
neither PostgreSQL nor S3 (the worker hands it a local file and stores what it returns), so
the ``DRIFTLINE_*`` settings it inherited from the service (database URL with its password,
S3 keys, tokens) are removed from its environment.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass

from driftline.training.sandbox import RunAs

KEPT_SETTINGS = frozenset({"DRIFTLINE_LOG_LEVEL", "DRIFTLINE_LOG_FORMAT"})
"""``DRIFTLINE_*`` variables a training process keeps (nothing secret)."""


@dataclass(frozen=True)
class ProcessLimits:
    """Limits of one training process; 0 means none."""

    memory_bytes: int = 0
    """Address space (RLIMIT_AS): past it allocations fail and the run is a resource_limit."""
    cpu_s: int = 0
    """CPU seconds over all its threads (RLIMIT_CPU): past it the kernel kills the process."""
    run_as: RunAs | None = None
    """The OS user it runs as (only a service running as root can set one); None: the
    service's own."""


def _lower(limit: int, value: int) -> None:
    """Lower the soft and hard limit to ``value`` (never raise one the host already set)."""
    current = [v for v in resource.getrlimit(limit) if v != resource.RLIM_INFINITY]
    capped = min([value, *current])
    resource.setrlimit(limit, (capped, capped))


def confine(limits: ProcessLimits) -> None:
    """Apply ``limits``, disable core dumps, and drop the service's settings from the env."""
    if limits.memory_bytes:
        _lower(resource.RLIMIT_AS, limits.memory_bytes)
    if limits.cpu_s:
        _lower(resource.RLIMIT_CPU, limits.cpu_s)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a core file would hold the data
    for name in [n for n in os.environ if n.startswith("DRIFTLINE_")]:
        if name not in KEPT_SETTINGS:
            del os.environ[name]
