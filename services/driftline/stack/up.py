"""``driftline up``: the stack plus supervised services, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from driftline.stack.errors import StackError
from driftline.stack.info import StackInfo
from driftline.stack.procs import is_alive
from driftline.stack.restarts import RestartPolicy
from driftline.stack.services import ServiceProcess, restart_service, start_services, stop_services
from driftline.stack.state import load_state
from driftline.stack.supervision import ServiceSupervisor
from driftline.stack.supervisor import LocalStack

TICK_S = 0.5


@contextlib.contextmanager
def stop_requested() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM (instead of an exception mid-restart)."""
    stopping = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: stopping.set())
    try:
        yield stopping
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def refuse_running_slots(stack: LocalStack, names: Sequence[str]) -> None:
    """Fail when a requested service already runs from this home (two would share its slot)."""
    records = load_state(stack.home).services
    live = [name for name in names if name in records and is_alive(records[name].ref)]
    running = [f"{name} (pid {records[name].pid})" for name in live]
    if running:
        raise StackError(
            f"already running from {stack.home}: {', '.join(running)}; stop them first "
            "(`driftline stack down`) or start another replica as NAME#2"
        )


def supervise(
    stack: LocalStack,
    info: StackInfo,
    processes: Sequence[ServiceProcess],
    policy: RestartPolicy,
    say: Callable[[str], None],
    stopping: threading.Event,
    on_all_ready: Callable[[list[str]], None],
) -> None:
    """Keep the services running until ``stopping`` is set, then stop them (no restarts)."""
    supervisor = ServiceSupervisor(
        processes,
        launch=lambda process: restart_service(stack, info, process),
        ledger=stack,
        say=say,
        clock=time.monotonic,
        policy=policy,
    )
    announced = False
    try:
        while not stopping.is_set():
            supervisor.tick()
            if not announced and supervisor.all_ready:
                announced = True
                on_all_ready(supervisor.finished)
            if supervisor.all_released:
                say("every service was stopped by `driftline stack down`")
                return
            if supervisor.all_finished:
                raise StackError(f"every service has stopped (logs in {stack.home}/logs)")
            stopping.wait(TICK_S)
        say("stopping services…")
    finally:
        stop_services(stack, supervisor.current)


def run_services_foreground(names: Sequence[str], policy: RestartPolicy | None = None) -> None:
    """``driftline up``: stack + services, restarted when they crash; Ctrl-C stops them all."""
    from rich.console import Console

    from driftline.runtime.settings import driftline_home

    console = Console(stderr=True)
    stack = LocalStack(driftline_home())
    with console.status("starting the local stack…"):
        info = stack.up(on_progress=lambda m: console.log(m))
    refuse_running_slots(stack, names)
    with stop_requested() as stopping:
        processes = start_services(stack, info, names)
        supervise(
            stack, info, processes, policy or RestartPolicy(), console.log, stopping,
            on_all_ready=lambda down: console.print(_up_message(down)),
        )  # fmt: skip


def _up_message(down: list[str]) -> str:
    """What ``driftline up`` says once every service it still supervises is ready."""
    if down:
        state = f"[bold yellow]Driftline is up without {', '.join(down)}[/] (see above)."
    else:
        state = "[bold green]Driftline is up.[/]"
    return (
        f"{state} Crashed services are restarted. Ctrl-C stops the services; "
        "`driftline stack down` stops the servers too."
    )
