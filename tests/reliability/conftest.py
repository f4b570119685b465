"""Reliability and security scenarios: marked ``chaos``; their figures are tabled at the end.

Tests that use the session's real stack are also marked ``integration``.
"""

from __future__ import annotations

import json
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


def _worker(config: pytest.Config) -> str | None:
    workerinput = getattr(config, "workerinput", None)
    return workerinput["workerid"] if workerinput else None


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Figures:
    """Where scenarios record their figures: ``<pytest temp>/reliability-figures.json``, or one
    file per xdist worker next to the workers' temp folders (the controller tables them all)."""
    if FIGURES not in request.config.stash:
        base, worker = tmp_path_factory.getbasetemp(), _worker(request.config)
        path = (
            base.parent / f"reliability-figures-{worker}.json"
            if worker
            else base / "reliability-figures.json"
        )
        request.config.stash[FIGURES] = Figures(path)
    return request.config.stash[FIGURES]


def _recorded(config: pytest.Config) -> Figures | None:
    found = config.stash.get(FIGURES, None)
    if found is not None and found.rows:
        return found
    if _worker(config) is not None or not hasattr(config, "_tmp_path_factory"):
        return None
    base = config._tmp_path_factory.getbasetemp()
    merged = Figures(base / "reliability-figures.json")
    for part in sorted(base.glob("reliability-figures-*.json")):
        merged.rows.extend(json.loads(part.read_text()))
    if merged.rows:
        merged.path.write_text(json.dumps(merged.rows, indent=2, default=str))
    return merged if merged.rows else None


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    """Print the table of figures the scenarios of this session recorded."""
    found = _recorded(config)
    if found is None:
        return
    terminalreporter.section("reliability figures")
    terminalreporter.write_line(found.table())
    terminalreporter.write_line(f"(JSON: {found.path})")
