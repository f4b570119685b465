"""``driftline up`` supervises: a service killed with ``kill -9`` comes back ready on its own
URL with no human action; a training job in flight when training is killed is resumed by the
restarted worker (same worker id) at once, not after its lease; SIGTERM stops everything and
restarts nothing; a service that crashes on every start is given up on after the burst limit
while the others keep running. Measured times are printed (``-s``) and recorded in
docs/reliability.md."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from driftline.stack import LocalStack
from driftline.stack.services import readiness
from driftline.stack.state import ServiceRecord, load_state
from driftline_contracts import topics
from driftline_contracts.events.training import ModelTrained, TrainingStarted
from tests.integration.kafka_helpers import read_all
from tests.integration.restart_phases import restart_phases
from tests.integration.test_training_crash import _about, _cmdline, _events, _train, _wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KILL_EACH = os.environ.get("DRIFTLINE_TEST_KILL_EACH") == "1"
"""Set to measure every service's restart (docs/reliability.md); the suite kills one."""
ALL = ("ingest", "validation", "training", "registry", "deployment", "monitoring", "audit")
SERVICES = ALL if KILL_EACH else ("ingest", "registry", "training")
LEASE_S = 600
"""Far longer than the test: a resume must not come from the lease running out."""
PLUGIN_PATH = Path(__file__).parents[1] / "unit" / "training" / "trainer_plugins"
"""The test distribution whose ``driftline.trainers`` entry points hold ``slow_logistic``."""
BACK_WITHIN_S = 60
"""A generous bound for the assert; the measured times go to docs/reliability.md."""


class Up:
    """One ``driftline up`` process on the module's own stack."""

    def __init__(
        self,
        home: Path,
        log: Path,
        slots: tuple[str, ...] = SERVICES,
        options: tuple[str, ...] = (),
        settings: dict[str, str] | None = None,
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
        env |= {
            "DRIFTLINE_HOME": str(home),
            "DRIFTLINE_SERVICE_PORTS": "free",
            "DRIFTLINE_TRAINING__LEASE_S": str(LEASE_S),
            "DRIFTLINE_TRAINING__POLL_INTERVAL_S": "0.2",
            "COLUMNS": "200",
            # Installs the test trainer plug-ins (slow_logistic) in the services' environment.
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(PLUGIN_PATH), os.environ.get("PYTHONPATH")) if p
            ),
            **(settings or {}),
        }
        self.home, self.log = home, log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "driftline", "up", *options, *slots],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )

    def stop(self) -> None:
        """SIGTERM ``driftline up`` (it stops its services), SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=60)
        if self.process.poll() is None:
            self.process.kill()

    def services(self) -> dict[str, ServiceRecord]:
        return load_state(self.home).services

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, name: str, not_pid: int = 0, timeout_s: float = 180) -> ServiceRecord:
        """The service's record once a process other than ``not_pid`` answers ready."""

        def ready() -> ServiceRecord | None:
            assert self.process.poll() is None, self.output()[-3000:]
            record = self.services().get(name)
            if record is None or record.pid == not_pid:
                return None
            return record if readiness(record.url, timeout_s=2)[0] == 200 else None

        return _wait_for(ready, timeout_s, f"{name} ready")


@pytest.fixture(scope="module")
def up(own_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    running = Up(own_stack.home, tmp_path_factory.mktemp("up") / "up.log")
    try:
        for name in SERVICES:
            running.wait_ready(name)
        yield running
    finally:
        running.stop()


# One service proves the mechanism (the supervisor treats them alike); each service's time
# back to ready is measured with DRIFTLINE_TEST_KILL_EACH=1, not in the suite's 10 minutes.
@pytest.mark.parametrize("name", ALL if KILL_EACH else ["registry"])
def test_kill_9_of_a_service_brings_it_back_ready_on_its_url(up: Up, name: str) -> None:
    before = up.services()
    killed = before[name]
    log = up.home / "logs" / f"service-{name}.log"
    written = log.stat().st_size
    os.kill(killed.pid, signal.SIGKILL)
    killed_at = time.time()
    back = up.wait_ready(name, not_pid=killed.pid, timeout_s=BACK_WITHIN_S)
    ready_at = time.time()
    tail = log.read_bytes()[written:].decode(errors="replace")
    phases = restart_phases(tail, killed_at, back.create_time, ready_at)
    load = os.getloadavg()[0]
    print(f"\n[supervised up] {name} after kill -9 (load {load:.1f}): {json.dumps(phases)}")
    assert "consumer group joins (s)" in phases, tail[-3000:]  # every phase found in its log

    assert back.url == killed.url
    assert (back.restarts, back.last_exit) == (killed.restarts + 1, "killed by SIGKILL")
    others = {n: r.pid for n, r in up.services().items() if n != name}
    assert others == {n: r.pid for n, r in before.items() if n != name}
    assert f"{name} exited (killed by SIGKILL)" in up.output()
    status = subprocess.run(
        [sys.executable, "-m", "driftline", "stack", "status", "--json", "--home", str(up.home)],
        capture_output=True,
        text=True,
        check=True,
    )
    shown = json.loads(status.stdout)["services"][name]
    assert (shown["alive"], shown["restarts"]) == (True, back.restarts)


def _forkservers(pid: int) -> list[psutil.Process]:
    """The multiprocessing forkserver of the training service ``pid``."""
    return [c for c in psutil.Process(pid).children() if "forkserver" in " ".join(_cmdline(c))]


def _fits(pid: int) -> list[psutil.Process]:
    """The training processes of the service ``pid``: forked by its forkserver."""
    return [p for server in _forkservers(pid) for p in server.children()]


async def test_a_job_in_flight_when_training_is_killed_resumes_without_the_lease(
    up: Up, own_stack: LocalStack
) -> None:
    info = own_stack.info()
    model = f"supervised-clf-{os.getpid()}"
    trainer = {"function": "slow_logistic", "params": {"sleep_s": 6}}
    await _train(info, model, trainer)
    (started,) = await _events(info, topics.TRAINING_STARTED, model)
    assert isinstance(started, TrainingStarted)
    training = up.services()["training"]
    fitting = await asyncio.to_thread(_wait_for, lambda: _fits(training.pid), 30, "the fit")
    orphans = fitting + _forkservers(training.pid)
    await asyncio.sleep(1.5)  # the fit is sleeping: the kill lands mid-job
    os.kill(training.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    try:
        _, resumed = await _events(info, topics.TRAINING_STARTED, model, count=2, timeout_s=120)
        resumed_s = time.monotonic() - killed_at
        (trained,) = await _events(info, topics.MODEL_TRAINED, model, timeout_s=120)
        trained_s = time.monotonic() - killed_at
    finally:
        for orphan in orphans:  # only if die-with-parent failed; they are ours
            with contextlib.suppress(psutil.Error):
                orphan.kill()
    print(f"\n[supervised up] job resumed {resumed_s:.1f}s, trained {trained_s:.1f}s after kill")

    assert (resumed.run_id, resumed.attempt) == (started.run_id, 2)
    assert resumed_s < LEASE_S / 4, "resumed by the restarted worker, not by the lease expiring"
    assert isinstance(trained, ModelTrained)
    assert trained.run_id == started.run_id
    assert up.services()["training"].restarts >= 1
    await asyncio.sleep(3)  # time for a duplicate, if anything were to produce one
    produced = await read_all(info.kafka_bootstrap, topics.MODEL_TRAINED, _about(model))
    assert len(produced) == 1


def test_sigterm_stops_every_service_and_restarts_none(up: Up) -> None:
    pids = {name: record.pid for name, record in up.services().items()}
    up.process.send_signal(signal.SIGTERM)
    assert up.process.wait(timeout=90) == 0, up.output()[-3000:]
    assert not [pid for pid in pids.values() if psutil.pid_exists(pid) and _running(pid)]
    assert up.services() == {}
    tail = up.output().split("stopping services")[-1]
    assert "restarted" not in tail
    assert "exited (" not in tail


def _running(pid: int) -> bool:
    with contextlib.suppress(psutil.Error):
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    return False


def test_a_crash_loop_is_given_up_on_loudly_and_the_others_keep_running(
    own_stack: LocalStack, tmp_path: Path
) -> None:
    # Second replicas (#2) so the slots are free whatever ran before; training's settings are
    # invalid (max_workers=0), so every start exits with code 1.
    looping = Up(
        own_stack.home,
        tmp_path / "up.log",
        slots=("ingest#2", "training#2"),
        options=("--restart-burst", "2", "--restart-window", "300", "--max-backoff", "2"),
        settings={"DRIFTLINE_TRAINING__MAX_WORKERS": "0"},
    )
    try:
        _wait_for(lambda: "GIVING UP on training#2" in looping.output(), 180, "the give-up")
        looping.wait_ready("ingest#2")
        _wait_for(lambda: "Driftline is up without training#2" in looping.output(), 10, "up")
        assert looping.process.poll() is None, "up keeps supervising the others"
        output = looping.output()
        assert output.count("training#2 restarted") == 2
        assert "training#2 exited (exit code 1)" in output
        record = looping.services()["training#2"]
        assert record.restarts == 2
        assert record.last_exit == "exit code 1; given up after 3 crashes within 300s"
        assert not psutil.pid_exists(record.pid) or not _running(record.pid)
    finally:
        looping.stop()
    assert looping.process.returncode == 0
    assert "ingest#2" not in looping.services()
