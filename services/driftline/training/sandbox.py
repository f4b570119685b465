"""Where a training process runs: a private folder of its own and, under root, another OS user.

The parent (the training service) creates the folder and, when the process will run as
another user, links the run's input files into it, since that user cannot read the worker's
folders. The child enters it before it runs anything of the spec's: it works and keeps its
temporary files there, gives up root for the configured user, and cannot be inspected
(``/proc/<pid>/mem``, ``environ``) by other processes of its user.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from driftline.training.runner import Sources

PR_SET_DUMPABLE = 4
"""``prctl`` option: 0 makes ``/proc/<pid>`` readable by root (CAP_SYS_PTRACE) only."""


class RunAsUserError(Exception):
    """The configured ``run_as_user`` does not exist on this host."""


@dataclass(frozen=True)
class RunAs:
    """The OS identity a training process drops to (its own group, no supplementary ones)."""

    uid: int
    gid: int


def run_as_identity(user: str) -> RunAs | None:
    """The identity for ``user`` when this process is root and ``user`` is set, else None
    (a process that is not root cannot change its user)."""
    if not user or os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(user) if not user.isdigit() else pwd.getpwuid(int(user))
    except KeyError as exc:
        raise RunAsUserError(f"training.run_as_user {user!r} is not a user of this host") from exc
    if entry.pw_uid == 0:
        raise RunAsUserError(f"training.run_as_user {user!r} is root")
    return RunAs(entry.pw_uid, entry.pw_gid)


def can_read(path: Path, run_as: RunAs) -> bool:
    """Whether ``run_as`` may read ``path`` and pass through every folder above it (by the
    permission bits; ACLs are not consulted)."""
    for place, wanted in [(path, 0o4), *((parent, 0o1) for parent in path.parents)]:
        seen = place.stat()
        shift = 6 if seen.st_uid == run_as.uid else 3 if seen.st_gid == run_as.gid else 0
        if not (seen.st_mode >> shift) & wanted:
            return False
    return True


def python_unreadable_by(run_as: RunAs) -> Path | None:
    """The first folder of this interpreter's modules ``run_as`` cannot read, if any: a
    training process importing a module from it later would fail."""
    for folder in (Path(os.__file__).parent, Path(shutil.__file__).parent, Path(sys.prefix)):
        if not can_read(folder.resolve(), run_as):
            return folder
    return None


def make_undumpable() -> bool:
    """Make this process non-dumpable (Linux): processes of the same user can then no longer
    read its ``/proc/<pid>/environ`` or memory, and it writes no core file. False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)


@dataclass(frozen=True)
class ChildSandbox:
    """What a training process enters first (pickled into it): its folder and identity."""

    folder: str
    run_as: RunAs | None = None

    def enter(self) -> None:
        """Work and keep temporary files in the folder, then drop to ``run_as``."""
        # '' and relative entries name the service's working directory, which we leave.
        sys.path[:] = [os.path.abspath(p) for p in sys.path]
        os.chdir(self.folder)
        os.environ.update(HOME=self.folder, TMPDIR=self.folder)
        tempfile.tempdir = self.folder
        if self.run_as is not None:
            os.setgroups([])
            os.setgid(self.run_as.gid)
            os.setuid(self.run_as.uid)  # after setuid root cannot be regained
        make_undumpable()  # other training processes of this user cannot read this one


class RunFolder:
    """The private folder of one training process; removed with everything in it."""

    def __init__(self, run_as: RunAs | None, parent: str | None = None) -> None:
        self.run_as = run_as
        self.path = Path(tempfile.mkdtemp(prefix="driftline-run-", dir=parent))
        if run_as is not None:
            os.chown(self.path, run_as.uid, run_as.gid)

    @property
    def child(self) -> ChildSandbox:
        """What the training process is handed."""
        return ChildSandbox(str(self.path), self.run_as)

    def stage(self, path: str | None) -> str | None:
        """``path`` where the training process can read it: as it is when it runs as this
        process's user, else linked (or copied) into the folder and given to ``run_as``."""
        if path is None or self.run_as is None:
            return path
        target = self.path / f"{len(os.listdir(self.path))}-{Path(path).name}"
        try:
            os.link(path, target)
        except OSError:  # another file system
            shutil.copyfile(path, target)
        os.chown(target, self.run_as.uid, self.run_as.gid)
        return str(target)

    def stage_sources(self, sources: Sources) -> Sources:
        """Each data file of ``sources`` staged."""
        if isinstance(sources, str):
            return self.stage(sources) or sources
        return [(self.stage(path) or path, kind) for path, kind in sources]

    def remove(self) -> None:
        """Delete the folder and whatever the process left in it."""
        shutil.rmtree(self.path, ignore_errors=True)


@contextlib.contextmanager
def run_folder(run_as: RunAs | None) -> Iterator[RunFolder]:
    """A ``RunFolder`` for the length of the block."""
    folder = RunFolder(run_as)
    try:
        yield folder
    finally:
        folder.remove()
