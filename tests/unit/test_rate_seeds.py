"""DRIFTLINE_RATE_SEEDS: the suite's small seed count unless the docs' command asks for more."""

from __future__ import annotations

import pytest

from tests.rate_seeds import VAR, rate_seeds


def test_the_suite_count_applies_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VAR, raising=False)
    assert rate_seeds(60) == 60


def test_the_docs_command_sets_the_full_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VAR, "300")
    assert rate_seeds(60) == 300


@pytest.mark.parametrize("value", ["0", "-5", "lots", "2.5", "1e3"])
def test_a_count_that_is_not_a_positive_whole_number_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(VAR, value)
    with pytest.raises(ValueError, match=VAR):
        rate_seeds(60)
