"""Replica slots of ``driftline up``: a worker id per slot, stable across restarts and never
shared; a slot already running from this home is not started twice; status shows restarts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from driftline.stack import LocalStack, StackError
from driftline.stack.services import worker_id
from driftline.stack.up import refuse_running_slots


def test_a_slot_keeps_its_worker_id_and_no_two_slots_share_one(tmp_path: Path) -> None:
    home, other = tmp_path / "a", tmp_path / "b"
    assert worker_id(home, "training") == worker_id(home, "training")
    ids = {worker_id(h, key) for h in (home, other) for key in ("training", "training#2")}
    assert len(ids) == 4
    assert all(len(i) <= 255 for i in ids)


def test_a_service_already_running_from_this_home_is_refused(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path)
    stack.register_service("training", os.getpid(), "http://127.0.0.1:1")
    with pytest.raises(StackError, match=r"already running .*training \(pid"):
        refuse_running_slots(stack, ["ingest", "training"])
    refuse_running_slots(stack, ["ingest", "training#2"])


def test_a_dead_registration_does_not_block_a_start(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path)
    stack.register_service("training", 2**22 + 12345, "http://127.0.0.1:1")
    refuse_running_slots(stack, ["training"])


def test_status_shows_restarts_and_how_the_last_process_ended(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path)
    stack.register_service("training", os.getpid(), "http://127.0.0.1:1", 2, "killed by SIGKILL")
    stack.note_service_exit("training", "exit code 1; given up after 6 crashes within 120s")
    (service,) = stack.status().services
    assert (service.restarts, service.last_exit) == (
        2,
        "exit code 1; given up after 6 crashes within 120s",
    )
    assert stack.status().to_dict()["services"]["training"]["restarts"] == 2


@pytest.mark.parametrize(
    ("slot", "message"),
    [("training#x", "bad replica"), ("training#1", "bad replica"), ("nope#2", "unknown service")],
)
def test_up_refuses_bad_slot_names_before_starting_anything(
    slot: str, message: str, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from driftline.cli.main import app

    result = CliRunner().invoke(app, ["up", slot], env={"DRIFTLINE_HOME": str(tmp_path)})
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "stack.json").exists()


def test_a_restart_is_recorded_only_while_the_service_is_registered(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path)
    stack.register_service("training", os.getpid(), "http://127.0.0.1:1")
    assert stack.replace_service("training", os.getpid(), "http://127.0.0.1:1", 1, "exit code 1")
    assert stack.status().services[0].restarts == 1
    stack.unregister_service("training")
    assert not stack.replace_service("training", os.getpid(), "http://127.0.0.1:1", 2, "")
    assert not stack.note_service_exit("training", "killed by SIGKILL")
    assert stack.status().services == ()
