"""Reliability and security scenarios: marked ``chaos``; their figures are tabled at the end.

Tests that use the session's real stack are also marked ``integration``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.figures import FIGURES, Figures, worker_id

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test here ``chaos``; those on the real stack ``integration`` as well."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.chaos)
            if "local_stack" in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Figures:
    """Where scenarios record their figures: ``<pytest temp>/reliability-figures.json``, or one
    file per xdist worker next to the workers' temp folders (the controller tables them all)."""
    if FIGURES not in request.config.stash:
        base, worker = tmp_path_factory.getbasetemp(), worker_id(request.config)
        path = (
            base.parent / f"reliability-figures-{worker}.json"
            if worker
            else base / "reliability-figures.json"
        )
        request.config.stash[FIGURES] = Figures(path)
    return request.config.stash[FIGURES]
