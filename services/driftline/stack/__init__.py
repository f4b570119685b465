"""Docker-free local stack: rclone S3, embedded PostgreSQL 18 and the tansu Kafka broker.

``LocalStack(home).up()`` starts the three servers on free loopback ports, records them in
``<home>/stack.json`` and writes ``<home>/stack.env`` for ``RuntimeSettings.load()``.
``external_stack_from_env()`` returns the explicit ``DRIFTLINE_*`` URLs instead, when set.
"""

from __future__ import annotations

from driftline.stack.errors import StackError
from driftline.stack.info import (
    ServerStatus,
    ServiceStatus,
    StackInfo,
    StackStatus,
    external_stack_from_env,
)
from driftline.stack.supervisor import LocalStack

__all__ = [
    "LocalStack",
    "ServerStatus",
    "ServiceStatus",
    "StackError",
    "StackInfo",
    "StackStatus",
    "external_stack_from_env",
]
