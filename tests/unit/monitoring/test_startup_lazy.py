"""Building the monitoring service imports no statistics stack: it comes with the first window."""

from __future__ import annotations

import os
import subprocess
import sys

from driftline.monitoring.evaluation import Tolerances
from driftline.monitoring.settings import MonitoringSection

HEAVY = ("scipy", "sklearn", "pandas", "pyarrow")

PROBE = f"""
import sys
from driftline.runtime.app import build_service_app
build_service_app("monitoring")
print(sorted(m for m in {HEAVY!r} if m in sys.modules))
"""

QUIET = {"DRIFTLINE_AUTH__DISABLED": "true", "DRIFTLINE_SIGNING__DISABLED": "true"}


def test_building_monitoring_imports_no_pandas_scipy_or_pyarrow() -> None:
    env = {**os.environ, **QUIET}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"  # ~0.8 s of CPU less per (re)start


def test_the_settings_still_give_the_evaluation_tolerances() -> None:
    section = MonitoringSection(quality_tolerance=0.2, performance_tolerance=0.1, min_labels=5)
    assert section.tolerances == Tolerances(quality=0.2, performance=0.1, min_labels=5)
