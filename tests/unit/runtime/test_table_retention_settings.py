"""``OUTBOX__RETENTION_DAYS``: more than nothing, at most a century, a finite number (a cutoff
further back is no date: the job would fail every pass); ``INBOX__RETENTION_DAYS`` the same,
or 0 (the default: kept); anything else is refused at settings load, naming the setting."""

from __future__ import annotations

import pytest

from driftline.runtime.settings import RuntimeSettings
from driftline.runtime.table_retention import PRUNE_OUTBOX


def test_the_default_keeps_a_week() -> None:
    assert RuntimeSettings().outbox.retention_days == 7


def test_hours_are_fine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_OUTBOX__RETENTION_DAYS", "0.25")
    assert RuntimeSettings().outbox.retention_days == 0.25


@pytest.mark.parametrize("days", ["0", "-1", "nan", "inf", "-inf", "1e308", "36501", "week", ""])
def test_out_of_range_or_no_number_is_refused(monkeypatch: pytest.MonkeyPatch, days: str) -> None:
    monkeypatch.setenv("DRIFTLINE_OUTBOX__RETENTION_DAYS", days)
    with pytest.raises(ValueError, match="retention_days"):
        RuntimeSettings()


def test_only_published_rows_are_ever_deleted() -> None:
    statement = " ".join(str(PRUNE_OUTBOX).split())
    assert "WHERE published_at IS NOT NULL AND published_at < :cutoff" in statement


def test_the_inbox_is_kept_by_default() -> None:
    assert RuntimeSettings().inbox.retention_days == 0


@pytest.mark.parametrize("days", ["-1", "nan", "inf", "1e308", "36501", "month", ""])
def test_an_inbox_retention_out_of_range_is_refused(
    monkeypatch: pytest.MonkeyPatch, days: str
) -> None:
    monkeypatch.setenv("DRIFTLINE_INBOX__RETENTION_DAYS", days)
    with pytest.raises(ValueError, match="retention_days"):
        RuntimeSettings()
