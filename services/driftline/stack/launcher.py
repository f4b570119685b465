"""Start one server: pick its port, spawn it, wait until it answers, provision it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from driftline.stack.errors import ServerExitedError, StackError
from driftline.stack.procs import free_port, is_alive, port_is_free, spawn, stop, wait_ready
from driftline.stack.spec import ServerSpec
from driftline.stack.state import StackState

Progress = Callable[[str], None]
PORT_ATTEMPTS = 3


def _reserved(state: StackState) -> set[int]:
    """Ports already assigned to the servers of this stack."""
    return set(state.ports.values())


PORT_RELEASE_WAIT_S = 10.0


def _port_frees_up(port: int, wait_s: float) -> bool:
    """Whether ``port`` is free now or becomes free within ``wait_s`` seconds."""
    deadline = time.monotonic() + wait_s
    while not port_is_free(port):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


class Launcher:
    """Starts servers of one home folder; ``pinned`` ports must be used as given."""

    def __init__(self, home: Path, pinned: dict[str, int]) -> None:
        self.home = home
        self.pinned = pinned

    def ensure(
        self,
        spec: ServerSpec,
        state: StackState,
        say: Progress,
        fixed: bool,
    ) -> bool:
        """Make ``spec`` run and answer, then provision it; True when this call started it."""
        ref = state.pids.get(spec.name)
        fresh = False
        if is_alive(ref) and self._answers_soon(spec, state):
            say(f"{spec.name}: running at {spec.url(state)} (pid {ref.pid})")
        else:
            if is_alive(ref):
                say(f"{spec.name}: pid {ref.pid} does not answer, restarting it")
            stop(state.pids.pop(spec.name, None), spec.stop_signal)
            self._start(spec, state, say, fixed)
            fresh = True
        try:
            spec.provision(self.home, state)
        except BaseException:
            if fresh:
                stop(state.pids.pop(spec.name, None), spec.stop_signal)
            raise
        return fresh

    def _answers_soon(self, spec: ServerSpec, state: StackState, wait_s: float = 3.0) -> bool:
        """Probe a running server, giving a busy one a few seconds."""
        deadline = time.monotonic() + wait_s
        while not spec.probe(self.home, state):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        return True

    def _start(self, spec: ServerSpec, state: StackState, say: Progress, fixed: bool) -> None:
        """Spawn ``spec`` and wait until it answers; on a lost port race retry on a new port."""
        fixed = fixed or spec.name in self.pinned
        self._choose_port(spec, state, say, fixed)
        for attempt in range(PORT_ATTEMPTS):
            launch = spec.prepare(self.home, state)
            say(f"{spec.name}: starting on port {state.ports[spec.name]}")
            began = time.monotonic()
            ref = spawn(launch.cmd, spec.log_path(self.home), launch.env, launch.user, launch.cwd)
            state.pids[spec.name] = ref
            try:
                probe = lambda: spec.probe(self.home, state)  # noqa: E731
                wait_ready(spec.name, ref, probe, spec.start_timeout, spec.log_path(self.home))
            except ServerExitedError as exc:
                state.pids.pop(spec.name, None)
                if fixed or not exc.port_in_use or attempt == PORT_ATTEMPTS - 1:
                    raise
                state.ports[spec.name] = free_port(_reserved(state))
                continue
            except BaseException:
                stop(state.pids.pop(spec.name, None), spec.stop_signal)
                raise
            say(f"{spec.name}: ready at {spec.url(state)} in {time.monotonic() - began:.1f}s")
            return

    def _choose_port(self, spec: ServerSpec, state: StackState, say: Progress, fixed: bool) -> None:
        """Reuse the fixed or recorded port when free; otherwise pick one (or fail if fixed)."""
        wanted = self.pinned.get(spec.name) or state.ports.get(spec.name)
        # A server killed a moment ago can hold its port for a little while (closing
        # connections); a restart on the same port waits for it rather than failing.
        if wanted and _port_frees_up(wanted, PORT_RELEASE_WAIT_S if fixed else 0.0):
            state.ports[spec.name] = wanted
            return
        if wanted and fixed:
            raise StackError(
                f"{spec.name}: port {wanted} on 127.0.0.1 is already in use by another process; "
                "stop that process or choose another port"
            )
        if wanted:
            say(f"{spec.name}: port {wanted} is taken, picking another")
        state.ports[spec.name] = free_port(_reserved(state))
