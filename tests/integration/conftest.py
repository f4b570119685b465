"""Integration tests: every test here is marked ``integration``.

The session's real stack (``local_stack`` and friends) lives in ``tests/conftest.py`` so the
reliability tests share the same one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration with ``integration``."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)
