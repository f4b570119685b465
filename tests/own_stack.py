"""A local stack of a module's own, for tests that run services as processes.

Service processes that a test stops or kills leave members in tansu's consumer groups that
can keep those groups rebalancing (tansu 0.6); in-process services of later tests on the
same stack then never finish joining. Tests that start service processes therefore run
them on a stack of their own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from driftline.stack import LocalStack


@contextlib.contextmanager
def stack_of_its_own(home: Path) -> Iterator[LocalStack]:
    """A started LocalStack in ``home``; stopped on the way out."""
    stack = LocalStack(home)
    stack.up()
    try:
        yield stack
    finally:
        stack.down()
