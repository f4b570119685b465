"""How the local stack sets the audit sink up: a key of its own per stack, roles by service."""

from __future__ import annotations

import stat
from pathlib import Path

from driftline.stack.audit_key import ensure_audit_key, key_path, read_audit_key
from driftline.stack.info import StackInfo

KEY_VAR = "DRIFTLINE_AUDIT__DIGEST_KEY"


def _info(**extra: str) -> StackInfo:
    return StackInfo(
        kafka_bootstrap="127.0.0.1:9092",
        database_url="postgresql+asyncpg://driftline:p@127.0.0.1:5432/driftline",
        s3_endpoint="http://127.0.0.1:9000",
        s3_access_key="a",
        s3_secret_key="s",
        **extra,  # type: ignore[arg-type]
    )


def test_each_stack_gets_its_own_random_key_readable_by_its_owner_only(tmp_path: Path) -> None:
    first = ensure_audit_key(tmp_path / "one")
    assert len(first) == 64
    assert ensure_audit_key(tmp_path / "one") == first == read_audit_key(tmp_path / "one")
    assert ensure_audit_key(tmp_path / "two") != first
    assert stat.S_IMODE(key_path(tmp_path / "one").stat().st_mode) == 0o600
    assert read_audit_key(tmp_path / "none") is None


def test_only_the_audit_sink_gets_the_key_and_the_audit_roles() -> None:
    info = _info(
        audit_database_url="postgresql+asyncpg://driftline_audit:w@h:1/driftline",
        audit_owner_database_url="postgresql+asyncpg://driftline_audit_owner:o@h:1/driftline",
        audit_digest_key="k" * 64,
    )
    audit = info.service_env("audit")
    assert audit[KEY_VAR] == "k" * 64
    assert audit["DRIFTLINE_DATABASE__URL"].startswith("postgresql+asyncpg://driftline_audit:")
    assert "driftline_audit_owner" in audit["DRIFTLINE_DATABASE__MIGRATION_URL"]
    for other in ("registry", "ingest"):
        env = info.service_env(other)
        assert KEY_VAR not in env
        assert "DRIFTLINE_DATABASE__MIGRATION_URL" not in env
        assert "driftline_audit" not in env["DRIFTLINE_DATABASE__URL"]
    assert "k" * 64 not in repr(info)
    assert KEY_VAR not in info.env()  # nor in stack.env, which every service reads
