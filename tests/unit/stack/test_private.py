"""Other OS users (the user training processes run as) cannot list or read the stack's home."""

from __future__ import annotations

import stat
from pathlib import Path

from driftline.stack.private import keep_private


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_others_may_pass_through_the_home_but_not_read_objects_or_logs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "s3" / "driftline").mkdir(parents=True, mode=0o755)
    (home / "s3").chmod(0o755)
    home.chmod(0o755)
    keep_private(home)
    assert _mode(home) == 0o711  # PostgreSQL's own user still reaches pg/
    assert _mode(home / "s3") == 0o700
    assert _mode(home / "logs") == 0o700  # made before any service writes there
