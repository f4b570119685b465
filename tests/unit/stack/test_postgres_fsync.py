"""The local stack's PostgreSQL skips fsync only when DRIFTLINE_STACK_NO_FSYNC=1 (test suites)."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftline.stack import postgres
from driftline.stack.state import StackState


def _command(tmp_path: Path) -> list[str]:
    """The server command line for an initialised data folder (no initdb runs)."""
    (tmp_path / "pg").mkdir()
    (tmp_path / "pg" / "PG_VERSION").write_text("18\n")
    return postgres._prepare(tmp_path, StackState(ports={"postgres": 5999})).cmd


def test_the_server_fsyncs_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(postgres.NO_FSYNC_VAR, raising=False)
    assert "fsync=off" not in _command(tmp_path)


def test_the_suite_switch_turns_fsync_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(postgres.NO_FSYNC_VAR, "1")
    command = _command(tmp_path)
    assert command[command.index("fsync=off") - 1] == "-c"


def test_any_other_value_keeps_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(postgres.NO_FSYNC_VAR, "yes please")
    assert "fsync=off" not in _command(tmp_path)
