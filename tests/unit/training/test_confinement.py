"""Training processes run confined: memory and CPU limits, no service secrets in their env."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from driftline.training.confinement import ProcessLimits
from driftline.training.pool import TrainingPool
from driftline.training.sandbox import (
    RunAs,
    RunAsUserError,
    can_read,
    python_unreadable_by,
    run_as_identity,
)
from driftline.training.settings import TrainingSection, process_limits
from tests.unit.training.builders import cancer, policy, spec

GIB = 1024**3
REPO = Path(__file__).parents[3]

PROBE = """
import json, os, resource
from driftline.training.confinement import ProcessLimits, confine
confine(ProcessLimits(memory_bytes=3 * 1024**3, cpu_s=30))
print(json.dumps({
    "env": sorted(n for n in os.environ if n.startswith("DRIFTLINE_")),
    "as": resource.getrlimit(resource.RLIMIT_AS),
    "cpu": resource.getrlimit(resource.RLIMIT_CPU),
    "core": resource.getrlimit(resource.RLIMIT_CORE),
}))
"""


def test_confine_drops_the_service_secrets_and_sets_the_limits() -> None:
    env = {
        **os.environ,
        "DRIFTLINE_DATABASE__URL": "postgresql+asyncpg://driftline:SECRET@db/driftline",
        "DRIFTLINE_STORAGE__SECRET_KEY": "s3-secret",
        "DRIFTLINE_AUTH__TOKENS": "token user:a admin",
        "DRIFTLINE_LOG_LEVEL": "DEBUG",
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    seen = json.loads(out.stdout)
    assert seen["env"] == ["DRIFTLINE_LOG_LEVEL"]
    assert seen["as"] == [3 * GIB, 3 * GIB]
    assert seen["cpu"] == [30, 30]
    assert seen["core"] == [0, 0]


def _data(tmp_path: Path) -> str:
    path = tmp_path / "cancer.csv"
    cancer().to_csv(path, index=False)
    return str(path)


async def test_a_fit_past_the_memory_limit_is_a_resource_limit(tmp_path: Path) -> None:
    pool = TrainingPool(1, policy(), ProcessLimits(memory_bytes=3 * GIB))
    data = _data(tmp_path)
    hog = spec(trainer={"function": "hog_memory"}).model_dump(mode="json")
    failed = await pool.train(data, "csv", hog, 10_000, 60)
    assert failed.failure is not None
    assert failed.failure[0] == "resource_limit"
    fine = await pool.train(data, "csv", spec().model_dump(mode="json"), 10_000, 60)
    assert fine.failure is None


async def test_a_fit_past_the_cpu_limit_is_killed_as_a_resource_limit(tmp_path: Path) -> None:
    pool = TrainingPool(1, policy(), ProcessLimits(cpu_s=2))
    burn = spec(trainer={"function": "spin"}).model_dump(mode="json")
    output = await pool.train(_data(tmp_path), "csv", burn, 10_000, 50)
    assert output.failure is not None
    assert output.failure[0] == "resource_limit"
    assert "died" in output.failure[1]


def test_limits_come_from_the_training_settings() -> None:
    section = TrainingSection(max_memory_bytes=8 * GIB, max_cpu_s=7200, run_as_user="")
    assert process_limits(section) == ProcessLimits(memory_bytes=8 * GIB, cpu_s=7200)
    assert process_limits(TrainingSection(run_as_user="")) == ProcessLimits()
    nobody = pwd.getpwnam("nobody")
    as_nobody = RunAs(nobody.pw_uid, nobody.pw_gid)
    usable = os.geteuid() == 0 and python_unreadable_by(as_nobody) is None
    # Default: nobody under root, unless nobody cannot read this Python (then root, warned).
    assert process_limits(TrainingSection()).run_as == (as_nobody if usable else None)


def test_a_user_who_cannot_reach_a_folder_cannot_read_what_is_in_it(tmp_path: Path) -> None:
    stranger = RunAs(uid=os.geteuid() + 4242, gid=os.getegid() + 4242)
    inner = tmp_path / "closed" / "lib"
    inner.mkdir(parents=True)
    inner.chmod(0o755)
    for folder in [tmp_path, *tmp_path.parents]:
        if not can_read(folder, stranger):
            break
    else:
        (tmp_path / "closed").chmod(0o755)
        assert can_read(inner, stranger)
    (tmp_path / "closed").chmod(0o700)
    assert not can_read(inner, stranger)


def test_a_run_as_user_that_does_not_exist_or_is_root_stops_the_start() -> None:
    if os.geteuid() != 0:
        assert run_as_identity("no-such-user-here") is None  # ignored: cannot change user
        return
    with pytest.raises(RunAsUserError, match="not a user"):
        run_as_identity("no-such-user-here")
    with pytest.raises(RunAsUserError, match="is root"):
        run_as_identity("0")


SERVICE = """
import asyncio, json, os, sys
from driftline.training.confinement import ProcessLimits
from driftline.training.pool import TrainingPool
from driftline.training.sandbox import run_as_identity
from tests.unit.training.builders import policy, spec

async def main() -> None:
    limits = ProcessLimits(run_as=run_as_identity(os.environ["PROBE_RUN_AS"]))
    pool = TrainingPool(1, policy(), limits)
    await pool.warm()
    params = {"secrets_file": os.environ["PROBE_SECRETS"], "markers": sys.argv[1:]}
    snoop = spec(trainer={"function": "snoop", "params": params}).model_dump(mode="json")
    output = await pool.train(os.environ["PROBE_DATA"], "csv", snoop, 10_000, 60)
    print(json.dumps(output.failure))

asyncio.run(main())
"""
"""A training service in miniature: credentials in its environment, one run of ``snoop``."""


def _snoop_as_a_service(folder: Path, run_as: str, unprivileged: bool) -> dict[str, Any]:
    """What ``snoop`` saw, trained by a service holding credentials in its environment and a
    secrets file (mode 600) of its user. ``unprivileged``: the service has no capabilities
    (as root: uid 0 without any, which is what a service user's process is to its files)."""
    markers = [f"db-pw-{uuid.uuid4().hex}", f"s3-{uuid.uuid4().hex}", f"tok-{uuid.uuid4().hex}"]
    secrets = folder / "stack.env"
    secrets.write_text(f"DRIFTLINE_AUTH__TOKENS={markers[2]} user:admin admin\n")
    secrets.chmod(0o600)
    data = folder / "cancer.csv"
    cancer().to_csv(data, index=False)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(folder),
        "PROBE_RUN_AS": run_as,
        "PROBE_SECRETS": str(secrets),
        "PROBE_DATA": str(data),
        "DRIFTLINE_DATABASE__URL": f"postgresql+asyncpg://driftline:{markers[0]}@db/driftline",
        "DRIFTLINE_STORAGE__SECRET_KEY": markers[1],
        "AWS_SECRET_ACCESS_KEY": markers[1],
        "DRIFTLINE_AUTH__TOKENS": f"{markers[2]} user:admin admin",
    }
    no_caps = ["setpriv", "--bounding-set=-all", "--inh-caps=-all"]
    prefix = no_caps if unprivileged and os.geteuid() == 0 else []
    out = subprocess.run(
        [*prefix, sys.executable, "-c", SERVICE, *markers],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    code, message, _ = json.loads(out.stdout.strip().splitlines()[-1])
    assert code == "trainer_error", message
    seen: dict[str, Any] = json.loads(message.split("SNOOP", 1)[1])
    return seen


NOT_REACHED = {"nothing", "refused: PermissionError"}


def _world_readable_folder() -> Path:
    """A folder the training process's user can reach (``tmp_path``'s parents are 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="driftline-snoop-"))
    folder.chmod(0o755)
    return folder


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prctl are Linux's")
@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="needs setpriv")
def test_a_trainer_of_a_service_that_is_not_root_finds_no_credential_in_any_environment() -> None:
    folder = _world_readable_folder()
    try:
        seen = _snoop_as_a_service(folder, "", unprivileged=True)
    finally:
        shutil.rmtree(folder)
    assert seen["os.environ"] == "nothing"
    assert seen["own environ"] == "nothing"  # the forkserver was started without them
    assert seen["parent environ"] == "nothing"
    assert seen["parent cmdline"] == "nothing"
    assert seen["service environ"] == "refused: PermissionError"  # non-dumpable
    assert seen["service memory"] == "refused: PermissionError"
    assert seen["any environ"] == []
    assert not [f for f in seen["open files"] if f.startswith("/") and f != "/dev/null"]
    # Not protected without a user of its own: the service user's files (docs/security.md).
    assert seen["secrets file"] == "found"


@pytest.mark.skipif(os.geteuid() != 0, reason="only a service running as root changes user")
def test_a_trainer_of_a_root_service_runs_as_nobody_and_reaches_no_credential() -> None:
    folder = _world_readable_folder()
    try:
        seen = _snoop_as_a_service(folder, "nobody", unprivileged=False)
    finally:
        shutil.rmtree(folder)
    assert seen["secrets file"] == "refused: PermissionError"
    assert seen["service environ"] == "refused: PermissionError"
    assert seen["service memory"] == "refused: PermissionError"
    assert seen["parent environ"] in NOT_REACHED
    assert seen["os.environ"] == "nothing"
    assert seen["own environ"] in NOT_REACHED  # after setuid /proc/self is root's
    assert seen["any environ"] == []
