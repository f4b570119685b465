"""``driftline up``'s supervisor on fakes and a fake clock: a crashed service comes back after
its back-off, the others are untouched, a crash loop is given up on, a clean exit is not a crash."""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from driftline.stack.errors import StackError
from driftline.stack.procs import ProcRef
from driftline.stack.restarts import RestartPolicy
from driftline.stack.services import ServiceProcess
from driftline.stack.supervision import ServiceSupervisor


@dataclass
class Clock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Host:
    """Fake processes: which pids live, how dead ones ended, which answer ready."""

    next_pid: int = 100
    exits: dict[int, int] = field(default_factory=dict)
    ready_pids: set[int] = field(default_factory=set)
    launched: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    records: list[tuple[str, int, int, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    unregistered: set[str] = field(default_factory=set)
    """Services ``driftline stack down`` took over (unregistered)."""
    stopped: list[int] = field(default_factory=list)

    def process(self, name: str) -> ServiceProcess:
        self.next_pid += 1
        return ServiceProcess(
            name,
            f"http://127.0.0.1:{self.next_pid}",
            ProcRef(self.next_pid, 1.0),
            Path(f"/logs/{name}.log"),
        )

    def launch(self, old: ServiceProcess) -> ServiceProcess:
        self.launched.append(old.name)
        new = self.process(old.name)
        return ServiceProcess(old.name, old.url, new.ref, old.log_path)

    def kill(self, process: ServiceProcess, code: int = -signal.SIGKILL) -> None:
        self.exits[process.ref.pid] = code

    def replace_service(self, name: str, pid: int, url: str, restarts: int, last_exit: str) -> bool:
        if name in self.unregistered:
            return False
        self.records.append((name, pid, restarts, last_exit))
        return True

    def note_service_exit(self, name: str, last_exit: str) -> bool:
        if name in self.unregistered:
            return False
        self.notes.append((name, last_exit))
        return True

    def is_registered(self, name: str) -> bool:
        return name not in self.unregistered


def _supervisor(host: Host, clock: Clock, names: list[str], **policy: float) -> ServiceSupervisor:
    return ServiceSupervisor(
        [host.process(name) for name in names],
        launch=host.launch,
        ledger=host,
        say=host.said.append,
        clock=clock,
        policy=RestartPolicy(**policy),
        alive=lambda ref: ref.pid not in host.exits,
        returncode=lambda ref: host.exits.get(ref.pid),
        ready=lambda p: p.ref.pid in host.ready_pids,
        stop=lambda p: host.stopped.append(p.ref.pid),
    )


def _by_name(supervisor: ServiceSupervisor, name: str) -> ServiceProcess:
    return next(p for p in supervisor.current if p.name == name)


def test_a_killed_service_is_restarted_after_its_back_off_and_the_others_are_untouched() -> None:
    host, clock = Host(), Clock()
    sup = _supervisor(host, clock, ["ingest", "training"])
    host.ready_pids |= {p.ref.pid for p in sup.current}
    sup.tick()
    assert sup.all_ready
    ingest = _by_name(sup, "ingest")
    killed = _by_name(sup, "training")
    host.kill(killed)

    clock.now = 10.0
    sup.tick()
    assert not sup.all_ready
    assert host.launched == []  # not before the back-off (1 s)
    assert "training exited (killed by SIGKILL) after 10.0s; restart 1/5 in 1.0s" in host.said
    assert host.notes == [("training", "killed by SIGKILL")]

    clock.now = 11.0
    sup.tick()
    back = _by_name(sup, "training")
    assert host.launched == ["training"]
    assert (back.url, back.ref.pid != killed.ref.pid) == (killed.url, True)
    assert host.records == [("training", back.ref.pid, 1, "killed by SIGKILL")]
    assert _by_name(sup, "ingest") == ingest

    host.ready_pids.add(back.ref.pid)
    clock.now = 15.5
    sup.tick()
    assert sup.all_ready
    assert f"training ready at {back.url} (back 5.5s after it exited)" in host.said


def test_a_crash_loop_backs_off_exponentially_then_is_given_up_on_loudly() -> None:
    host, clock = Host(), Clock()
    sup = _supervisor(host, clock, ["ingest", "validation"], burst=3, window_s=100)
    waits = []
    for _ in range(3):
        host.kill(_by_name(sup, "validation"), code=1)
        sup.tick()
        waits.append(sup.slots[1].restart_at - clock.now)  # type: ignore[operator]
        clock.now += waits[-1]
        sup.tick()
    assert waits == [1.0, 2.0, 4.0]
    assert host.launched == ["validation"] * 3

    host.kill(_by_name(sup, "validation"), code=1)
    sup.tick()
    clock.now += 60
    sup.tick()
    assert host.launched == ["validation"] * 3  # no fourth restart
    assert any(
        m.startswith("GIVING UP on validation: exit code 1; given up after 4 crashes")
        for m in host.said
    )
    assert host.notes[-1] == ("validation", "exit code 1; given up after 4 crashes within 100s")
    assert not sup.all_finished  # ingest still runs and is still supervised
    host.kill(_by_name(sup, "ingest"))
    sup.tick()
    clock.now += 1
    sup.tick()
    assert host.launched[-1] == "ingest"


@pytest.mark.parametrize("code", [0, -signal.SIGTERM])
def test_a_clean_exit_is_not_restarted(code: int) -> None:
    host, clock = Host(), Clock()
    sup = _supervisor(host, clock, ["registry"])
    host.kill(_by_name(sup, "registry"), code=code)
    sup.tick()
    clock.now = 100
    sup.tick()
    assert host.launched == []
    assert sup.all_finished
    assert "not restarted (not a crash)" in host.said[-1]


def test_no_restart_when_restarts_are_off() -> None:
    host, clock = Host(), Clock()
    sup = _supervisor(host, clock, ["registry"], enabled=False)
    host.kill(_by_name(sup, "registry"))
    sup.tick()
    clock.now = 100
    sup.tick()
    assert host.launched == []
    assert host.notes[-1] == ("registry", "killed by SIGKILL; not restarted (restarts are off)")


def test_a_service_slow_to_get_ready_is_named_once() -> None:
    host, clock = Host(), Clock()
    sup = _supervisor(host, clock, ["audit"])
    clock.now = 121
    sup.tick()
    sup.tick()
    assert [m for m in host.said if "not ready after 120s" in m] == [
        "audit is not ready after 120s; see http://127.0.0.1:101/readyz and /logs/audit.log"
    ]


def test_a_service_that_cannot_be_spawned_counts_as_a_crash_and_the_others_stay() -> None:
    host, clock = Host(), Clock()
    sup = _supervisor(host, clock, ["ingest", "training"], burst=2)

    def broken(old: ServiceProcess) -> ServiceProcess:
        host.launched.append(old.name)
        raise StackError("cannot run python: No such file or directory")

    sup.launch = broken
    host.kill(_by_name(sup, "training"))
    for _ in range(6):
        sup.tick()
        clock.now += 10
    assert host.launched == ["training", "training"]
    assert host.notes[-1][1].startswith("could not start: cannot run python")
    assert "given up after 3 crashes" in host.notes[-1][1]
    assert not sup.all_finished


def test_services_unregistered_by_stack_down_are_left_alone() -> None:
    host, clock = Host(), Clock()
    sup = _supervisor(host, clock, ["ingest", "training"])
    host.unregistered |= {"ingest", "training"}  # `driftline stack down` stopped them
    host.kill(_by_name(sup, "ingest"), code=-signal.SIGTERM)
    host.kill(_by_name(sup, "training"))  # SIGKILLed after its grace period
    sup.tick()
    clock.now = 60
    sup.tick()
    assert host.launched == []
    assert sup.all_released
    assert "training was stopped by `driftline stack down`; not restarted" in host.said


def test_a_restart_racing_stack_down_is_stopped_not_left_behind() -> None:
    host, clock = Host(), Clock()
    sup = _supervisor(host, clock, ["training"])
    host.kill(_by_name(sup, "training"))
    sup.tick()
    clock.now = 1
    original = host.launch

    def launch_while_down_runs(old: ServiceProcess) -> ServiceProcess:
        new = original(old)
        host.unregistered.add("training")  # down cleared the state while it spawned
        return new

    sup.launch = launch_while_down_runs
    sup.tick()
    assert host.stopped == [_by_name(sup, "training").ref.pid]
    assert host.records == []
    assert sup.all_released
