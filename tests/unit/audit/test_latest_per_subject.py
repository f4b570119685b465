"""The audit's newest entry per subject is one PostgreSQL ``DISTINCT ON`` statement, built
with SQLAlchemy's current API (the deprecated ``distinct(expr)`` form warned on every call)."""

from __future__ import annotations

import warnings
from typing import Any

from sqlalchemy.dialects import postgresql

from driftline.audit.adapters.postgres import PostgresAuditLog


class Captured:
    """A session that keeps the statement it is asked to run and finds nothing."""

    statement: Any = None

    async def execute(self, statement: Any) -> list[Any]:
        self.statement = statement
        return []


async def test_newest_per_subject_is_distinct_on_the_subject_newest_first() -> None:
    session = Captured()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecation on the way
        found = await PostgresAuditLog(session).latest_per_subject(["t.v1"])  # type: ignore[arg-type]
    assert found == []
    sql = " ".join(str(session.statement.compile(dialect=postgresql.dialect())).split())
    assert sql.startswith("SELECT DISTINCT ON (audit_log.subject) ")
    assert sql.endswith("ORDER BY audit_log.subject, audit_log.seq DESC")
