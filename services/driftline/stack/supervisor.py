"""``LocalStack``: start, check, restart and stop the three servers of one home folder."""

from __future__ import annotations

import signal
from collections.abc import Mapping
from pathlib import Path

from driftline.stack import broker, brokerlog, postgres, s3
from driftline.stack.audit_key import ensure_audit_key, read_audit_key
from driftline.stack.errors import StackError
from driftline.stack.event_keys import ensure_event_keys
from driftline.stack.info import ENV_FILE, ServerStatus, ServiceStatus, StackInfo, StackStatus
from driftline.stack.launcher import Launcher, Progress
from driftline.stack.private import keep_private
from driftline.stack.procs import create_time, is_alive, stop, stop_all
from driftline.stack.spec import ServerSpec
from driftline.stack.state import ServiceRecord, StackState, load_state, locked, save_state
from driftline.stack.tokens import ensure_tokens

SERVERS: tuple[ServerSpec, ...] = (s3.SPEC, postgres.SPEC, brokerlog.SPEC, broker.SPEC)
SERVICE_GRACE_S = 25.0


def _quiet(_message: str) -> None:
    """Progress sink that drops messages."""


class LocalStack:
    """The Docker-free stack (rclone S3, PostgreSQL, tansu) whose state lives in ``home``."""

    def __init__(self, home: Path, ports: Mapping[str, int] | None = None) -> None:
        self.home = Path(home).resolve()
        pinned = {name: port for name, port in (ports or {}).items() if port}
        self._launcher = Launcher(self.home, pinned)

    def up(self, on_progress: Progress | None = None) -> StackInfo:
        """Start whatever is not running and answering; return the connection settings."""
        say = on_progress or _quiet
        with locked(self.home):
            state = load_state(self.home)
            state.ensure_credentials()
            ensure_audit_key(self.home)
            ensure_tokens(self.home)
            ensure_event_keys(self.home)
            keep_private(self.home)
            started: list[ServerSpec] = []
            try:
                for spec in SERVERS:
                    if self._launcher.ensure(spec, state, say, fixed=False):
                        started.append(spec)  # noqa: PERF401 (keep what started before a failure)
                info = self._info(state)
                info.write_env_file(self.home / ENV_FILE)
            except BaseException:
                self._rollback(state, started, say)
                raise
            finally:
                save_state(self.home, state)
        return info

    def down(self, on_progress: Progress | None = None) -> None:
        """Stop registered services, then the servers; wait until every process is gone."""
        say = on_progress or _quiet
        with locked(self.home):
            state = load_state(self.home)
            if state.services:
                say(f"stopping services: {', '.join(sorted(state.services))}")
                stop_all([rec.ref for rec in state.services.values()], SERVICE_GRACE_S)
                state.services.clear()
            for spec in reversed(SERVERS):
                ref = state.pids.pop(spec.name, None)
                if is_alive(ref):
                    say(f"{spec.name}: stopping (pid {ref.pid})")
                stop(ref, spec.stop_signal)
            save_state(self.home, state)

    def status(self) -> StackStatus:
        """Every server (url, pid, alive, answering) and every registered service."""
        state = load_state(self.home)
        servers = tuple(self._server_status(spec, state) for spec in SERVERS)
        services = tuple(
            ServiceStatus(name, rec.url, rec.pid, is_alive(rec.ref), rec.restarts, rec.last_exit)
            for name, rec in sorted(state.services.items())
        )
        return StackStatus(self.home, servers, services)

    def info(self) -> StackInfo:
        """Connection settings recorded by the last ``up`` (nothing is started)."""
        state = load_state(self.home)
        if not all(spec.name in state.ports for spec in SERVERS):
            raise StackError(f"no local stack recorded in {self.home}: run `driftline stack up`")
        return self._info(state)

    def register_service(
        self, name: str, pid: int, url: str, restarts: int = 0, last_exit: str = ""
    ) -> None:
        """Record a service process so ``status`` shows it and ``down`` stops it."""
        with locked(self.home):
            state = load_state(self.home)
            record = ServiceRecord(pid, create_time(pid), url, restarts, last_exit)
            state.services[name] = record
            save_state(self.home, state)

    def note_service_exit(self, name: str, last_exit: str) -> bool:
        """Record how a service's process ended; False when it is no longer registered."""
        with locked(self.home):
            state = load_state(self.home)
            if name not in state.services:
                return False
            state.services[name].last_exit = last_exit
            save_state(self.home, state)
        return True

    def replace_service(self, name: str, pid: int, url: str, restarts: int, last_exit: str) -> bool:
        """Record a restarted process of a registered service; False (nothing recorded) when
        it is no longer registered (``down`` ran meanwhile)."""
        with locked(self.home):
            state = load_state(self.home)
            if name not in state.services:
                return False
            state.services[name] = ServiceRecord(pid, create_time(pid), url, restarts, last_exit)
            save_state(self.home, state)
        return True

    def is_registered(self, name: str) -> bool:
        """True while ``name`` is a registered service (``down`` unregisters them all)."""
        with locked(self.home):
            return name in load_state(self.home).services

    def unregister_service(self, name: str) -> None:
        """Forget a service process (it stopped by itself)."""
        with locked(self.home):
            state = load_state(self.home)
            state.services.pop(name, None)
            save_state(self.home, state)

    def kill_broker(self) -> None:
        """SIGKILL the broker (its log stays in S3)."""
        self._stop_one(broker.SPEC, signal.SIGKILL)

    def start_broker(self) -> None:
        """Start the broker again on its recorded port."""
        self._start_one(broker.SPEC)

    def stop_postgres(self) -> None:
        """Stop PostgreSQL (fast shutdown)."""
        self._stop_one(postgres.SPEC)

    def start_postgres(self) -> None:
        """Start PostgreSQL again on its recorded port with the same data."""
        self._start_one(postgres.SPEC)

    def stop_s3(self) -> None:
        """Stop the S3 server."""
        self._stop_one(s3.SPEC)

    def start_s3(self) -> None:
        """Start the S3 server again on its recorded port with the same data."""
        self._start_one(s3.SPEC)

    def _stop_one(self, spec: ServerSpec, sig: int | None = None) -> None:
        """Stop one server and forget its pid (its port is kept)."""
        with locked(self.home):
            state = load_state(self.home)
            stop(state.pids.pop(spec.name, None), sig or spec.stop_signal)
            save_state(self.home, state)

    def _start_one(self, spec: ServerSpec) -> None:
        """Bring one server back on its recorded port."""
        with locked(self.home):
            state = load_state(self.home)
            if spec.name not in state.ports:
                raise StackError(f"{spec.name} was never started in {self.home}: run `up` first")
            try:
                self._launcher.ensure(spec, state, _quiet, fixed=True)
            finally:
                save_state(self.home, state)

    def _rollback(self, state: StackState, started: list[ServerSpec], say: Progress) -> None:
        """Stop the servers this ``up`` started, so a failed start leaves no orphans."""
        for spec in reversed(started):
            say(f"{spec.name}: stopping (this start did not complete)")
            stop(state.pids.pop(spec.name, None), spec.stop_signal)

    def _server_status(self, spec: ServerSpec, state: StackState) -> ServerStatus:
        """Status of one server from the recorded state plus a live probe."""
        port = state.ports.get(spec.name)
        ref = state.pids.get(spec.name)
        alive = is_alive(ref)
        answering = alive and port is not None and spec.probe(self.home, state)
        url = spec.url(state) if port else ""
        pid = ref.pid if alive and ref is not None else None
        return ServerStatus(spec.name, url, port, pid, alive, answering)

    def _info(self, state: StackState) -> StackInfo:
        """Connection settings for the recorded ports and credentials."""
        return StackInfo(
            kafka_bootstrap=broker.bootstrap(state),
            database_url=postgres.database_url(state),
            audit_database_url=postgres.audit_database_url(state),
            audit_owner_database_url=postgres.audit_owner_database_url(state),
            audit_digest_key=read_audit_key(self.home),
            s3_endpoint=s3.endpoint(state),
            s3_access_key=state.s3_access_key,
            s3_secret_key=state.s3_secret_key,
            home=self.home,
        )
