"""Reliability and security scenarios: marked ``chaos``; their figures are tabled at the end.

Tests that use the session's real stack are also marked ``integration``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.figures import Figures

HERE = Path(__file__).parent
FIGURES = pytest.StashKey[Figures]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test here ``chaos``; those on the real stack ``integration`` as well."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.chaos)
            if "local_stack" in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Figures:
    """Where scenarios record their figures (``<pytest temp>/reliability-figures.json``)."""
    if FIGURES not in request.config.stash:
        path = tmp_path_factory.getbasetemp() / "reliability-figures.json"
        request.config.stash[FIGURES] = Figures(path)
    return request.config.stash[FIGURES]


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    """Print the table of figures the scenarios of this session recorded."""
    found = config.stash.get(FIGURES, None)
    if found is None or not found.rows:
        return
    terminalreporter.section("reliability figures")
    terminalreporter.write_line(found.table())
    terminalreporter.write_line(f"(JSON: {found.path})")
