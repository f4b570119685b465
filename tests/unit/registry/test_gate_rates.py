"""The gate's error rates on simulated holdouts stay where docs/registry.md says."""

from __future__ import annotations

import pytest

from tests.unit.registry.gate_rates import called_worse


@pytest.mark.parametrize("kind", ["regression", "classification"])
def test_an_equally_good_candidate_is_rarely_called_worse(kind: str) -> None:
    assert called_worse(kind, 500, 0.0, seeds=100) <= 0.08  # nominal 2.5%


def test_a_clearly_worse_candidate_is_caught_on_a_large_holdout() -> None:
    assert called_worse("classification", 2000, 0.05, seeds=50) >= 0.9


def test_a_positive_margin_rarely_calls_an_equal_candidate_a_win() -> None:
    assert called_worse("classification", 500, 0.0, seeds=50, margin=0.001) >= 0.95
