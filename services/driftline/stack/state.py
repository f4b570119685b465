"""The stack's state file (``<home>/stack.json``): ports, pids, credentials, services."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from driftline.stack.procs import ProcRef

STATE_FILE = "stack.json"
LOCK_FILE = ".stack.lock"


@dataclass
class ServiceRecord:
    """A Driftline service process registered by ``driftline up``."""

    pid: int
    create_time: float
    url: str
    restarts: int = 0
    """How often ``driftline up`` started it again after a crash."""
    last_exit: str = ""
    """How its previous process ended (and whether it was given up on)."""

    @property
    def ref(self) -> ProcRef:
        """The process reference of this service."""
        return ProcRef(self.pid, self.create_time)


@dataclass
class StackState:
    """Everything needed to find, restart or stop the local stack."""

    ports: dict[str, int] = field(default_factory=dict)
    pids: dict[str, ProcRef] = field(default_factory=dict)
    services: dict[str, ServiceRecord] = field(default_factory=dict)
    s3_access_key: str = ""
    s3_secret_key: str = ""
    pg_superuser_password: str = ""
    pg_password: str = ""
    pg_audit_password: str = ""
    pg_audit_owner_password: str = ""

    def ensure_credentials(self) -> None:
        """Generate the credentials once per home; later calls keep them."""
        self.s3_access_key = self.s3_access_key or "driftline" + secrets.token_hex(6)
        self.s3_secret_key = self.s3_secret_key or secrets.token_hex(20)
        self.pg_superuser_password = self.pg_superuser_password or secrets.token_hex(16)
        self.pg_password = self.pg_password or secrets.token_hex(16)
        self.pg_audit_password = self.pg_audit_password or secrets.token_hex(16)
        self.pg_audit_owner_password = self.pg_audit_owner_password or secrets.token_hex(16)

    def to_json(self) -> str:
        """Serialise to JSON."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StackState:
        """Parse the JSON written by ``to_json``."""
        raw = json.loads(text)
        raw["pids"] = {k: ProcRef(**v) for k, v in raw.get("pids", {}).items()}
        raw["services"] = {k: ServiceRecord(**v) for k, v in raw.get("services", {}).items()}
        return cls(**raw)


def load_state(home: Path) -> StackState:
    """Read ``<home>/stack.json`` (an empty state when missing)."""
    path = home / STATE_FILE
    return StackState.from_json(path.read_text()) if path.exists() else StackState()


def save_state(home: Path, state: StackState) -> None:
    """Write the state atomically, readable by the owner only (it holds credentials)."""
    home.mkdir(parents=True, exist_ok=True)
    tmp = home / f".{STATE_FILE}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(state.to_json())
    os.replace(tmp, home / STATE_FILE)


@contextlib.contextmanager
def locked(home: Path) -> Iterator[None]:
    """Hold an exclusive lock on the home folder (one writer of the state at a time)."""
    home.mkdir(parents=True, exist_ok=True)
    with (home / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
