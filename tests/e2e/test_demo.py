"""The README's main job: ``driftline demo`` passes end to end in separate processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.timeout(900)
def test_demo_passes_and_names_every_step(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "driftline", "demo", "--home", str(tmp_path / "home")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    for step in (
        "local stack up",
        "all services ready",
        "validation accepted breast-cancer v1",
        "corrupted variant rejected",
        "hash chain and signed digest verify",
        "demo passed",
    ):
        assert step in output, step
    assert "missing_column" in output
    leftovers = subprocess.run(
        ["pgrep", "-f", str(tmp_path / "home")], capture_output=True, text=True, check=False
    ).stdout.split()
    assert leftovers == [], "demo left processes running"
