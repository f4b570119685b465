"""Keep ``driftline up``'s services running: a crashed one is started again after a back-off.

``ServiceSupervisor.tick()`` is one look at every service; the caller loops it and stops
looping (then stops the services) on Ctrl-C/SIGTERM, so a clean stop restarts nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from driftline.stack.errors import StackError
from driftline.stack.procs import ProcRef, exit_status, is_alive, stop
from driftline.stack.restarts import (
    GiveUp,
    RestartPolicy,
    describe_exit,
    is_failure,
    next_restart,
)
from driftline.stack.services import SERVICE_GRACE_S, ServiceProcess, readiness

NOT_READY_WARNING_S = 120.0


class ServiceLedger(Protocol):
    """Where restarts and exits are recorded (``stack.json``, for ``driftline stack status``)."""

    def replace_service(
        self, name: str, pid: int, url: str, restarts: int, last_exit: str
    ) -> bool: ...

    def note_service_exit(self, name: str, last_exit: str) -> bool: ...

    def is_registered(self, name: str) -> bool: ...


@dataclass
class Slot:
    """One supervised service: its current process and what happened to earlier ones."""

    process: ServiceProcess
    since: float
    """When the current process was started (or, while it is down, when it exited)."""
    crashes: list[float] = field(default_factory=list)
    restarts: int = 0
    restart_at: float | None = None
    ready: bool = False
    warned: bool = False
    last_exit: str = ""
    finished: str = ""
    """Why the service is no longer supervised: it stopped cleanly, or it was given up on."""
    released: bool = False
    """Unregistered by someone else (``driftline stack down``): theirs to stop, not ours."""


def _exit_code(ref: ProcRef) -> int | None:
    """The exit code of a process seen dead (it may still be on its way out)."""
    return exit_status(ref, wait_s=2.0)


def _stop(process: ServiceProcess) -> None:
    stop(process.ref, grace=SERVICE_GRACE_S)


def _answers_ready(process: ServiceProcess) -> bool:
    return readiness(process.url, timeout_s=1.0)[0] == 200


@dataclass
class ServiceSupervisor:
    """Restarts crashed services (``Restart=on-failure``) and reports them as they get ready."""

    processes: Sequence[ServiceProcess]
    launch: Callable[[ServiceProcess], ServiceProcess]
    """Starts the same service again (same name, port and settings)."""
    ledger: ServiceLedger
    say: Callable[[str], None]
    clock: Callable[[], float]
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    alive: Callable[[ProcRef], bool] = is_alive
    returncode: Callable[[ProcRef], int | None] = _exit_code
    ready: Callable[[ServiceProcess], bool] = _answers_ready
    stop: Callable[[ServiceProcess], None] = _stop
    slots: list[Slot] = field(init=False)

    def __post_init__(self) -> None:
        now = self.clock()
        self.slots = [Slot(process, now) for process in self.processes]

    @property
    def current(self) -> list[ServiceProcess]:
        """The latest process of every service (the ones to stop)."""
        return [slot.process for slot in self.slots]

    @property
    def all_ready(self) -> bool:
        """True when every supervised service answers ready."""
        return all(slot.ready for slot in self.slots if not slot.finished)

    @property
    def finished(self) -> list[str]:
        """Names of the services no longer supervised (stopped, or given up on)."""
        return [slot.process.name for slot in self.slots if slot.finished]

    @property
    def all_finished(self) -> bool:
        """True when no service is left to supervise (all stopped or given up on)."""
        return all(slot.finished for slot in self.slots)

    @property
    def all_released(self) -> bool:
        """True when ``driftline stack down`` took every service over."""
        return all(slot.released for slot in self.slots)

    def tick(self) -> None:
        """Look at every service once: restart what is due, notice exits and readiness."""
        for slot in self.slots:
            if not slot.finished:
                self._look_at(slot, self.clock())

    def _look_at(self, slot: Slot, now: float) -> None:
        if slot.restart_at is not None:
            if now >= slot.restart_at:
                self._restart(slot, now)
            return
        if not self.alive(slot.process.ref):
            self._exited(slot, self.returncode(slot.process.ref), now)
        elif not slot.ready and self.ready(slot.process):
            slot.ready = True
            back = f" (back {now - slot.since:.1f}s after it exited)" if slot.restarts else ""
            self.say(f"{slot.process.name} ready at {slot.process.url}{back}")
        elif not slot.ready and not slot.warned and now - slot.since > NOT_READY_WARNING_S:
            slot.warned = True
            self.say(
                f"{slot.process.name} is not ready after {NOT_READY_WARNING_S:.0f}s; "
                f"see {slot.process.url}/readyz and {slot.process.log_path}"
            )

    def _exited(self, slot: Slot, code: int | None, now: float, why: str = "") -> None:
        """A process is gone (or could not be started): restart it later, or say why not."""
        name, slot.ready, slot.last_exit = slot.process.name, False, why or describe_exit(code)
        uptime = now - slot.since
        if not self.ledger.note_service_exit(name, slot.last_exit):
            self._release(slot)
            return
        if not self.policy.enabled or not is_failure(code):
            why = "not a crash" if self.policy.enabled else "restarts are off"
            slot.finished = f"{slot.last_exit}; not restarted ({why})"
            self._finish(slot, f"{name} stopped ({slot.finished}); the others keep running")
            return
        decision = next_restart(self.policy, slot.crashes, now)
        slot.crashes.append(now)
        if isinstance(decision, GiveUp):
            slot.finished = (
                f"{slot.last_exit}; given up after {decision.crashes} crashes "
                f"within {self.policy.window_s:.0f}s"
            )
            self._finish(
                slot,
                f"GIVING UP on {name}: {slot.finished}. The other services keep running; "
                f"its log: {slot.process.log_path}",
            )
            return
        slot.restart_at, slot.since = now + decision.delay_s, now
        self.say(
            f"{name} exited ({slot.last_exit}) after {uptime:.1f}s; restart "
            f"{decision.attempt}/{self.policy.burst} in {decision.delay_s:.1f}s"
        )

    def _restart(self, slot: Slot, now: float) -> None:
        slot.restart_at = None
        if not self.ledger.is_registered(slot.process.name):
            self._release(slot)
            return
        try:
            slot.process = self.launch(slot.process)
        except StackError as exc:  # counts as a crash: retried with back-off, then given up
            self._exited(slot, None, now, why=f"could not start: {exc}")
            return
        slot.restarts += 1
        process = slot.process
        if not self.ledger.replace_service(
            process.name, process.ref.pid, process.url, slot.restarts, slot.last_exit
        ):  # `stack down` ran while it started: it would be a process nobody knows about
            self.stop(process)
            self._release(slot)
            return
        self.say(f"{process.name} restarted (pid {process.ref.pid}, restart {slot.restarts})")

    def _release(self, slot: Slot) -> None:
        """The service was unregistered while down (``driftline stack down``): leave it."""
        slot.finished, slot.released = "stopped by `driftline stack down`", True
        self.say(f"{slot.process.name} was stopped by `driftline stack down`; not restarted")

    def _finish(self, slot: Slot, message: str) -> None:
        self.say(message)
        self.ledger.note_service_exit(slot.process.name, slot.finished)
