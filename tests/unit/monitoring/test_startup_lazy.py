"""What moved behind first use still works (the start-up import probe of every service is
in tests/unit/runtime/test_startup_lazy.py)."""

from __future__ import annotations

from driftline.monitoring.evaluation import Tolerances
from driftline.monitoring.settings import MonitoringSection


def test_the_settings_still_give_the_evaluation_tolerances() -> None:
    section = MonitoringSection(quality_tolerance=0.2, performance_tolerance=0.1, min_labels=5)
    assert section.tolerances == Tolerances(quality=0.2, performance=0.1, min_labels=5)
