"""Who may promote: a named user with the approver or admin role."""

from __future__ import annotations

import pytest

from driftline.deployment.auth import NotAllowedError, NotAuthenticatedError, promoter


def test_an_approver_or_admin_may_promote() -> None:
    assert promoter("user:alice", "approver") == "user:alice"
    assert promoter("user:root", "admin") == "user:root"


@pytest.mark.parametrize(
    ("actor", "role", "error"),
    [
        (None, "approver", NotAuthenticatedError),
        ("", "admin", NotAuthenticatedError),
        ("user:bob", None, NotAllowedError),
        ("user:bob", "trainer", NotAllowedError),
        ("service:training", "admin", ValueError),
        ("alice", "admin", ValueError),
    ],
)
def test_anyone_else_is_refused(actor: str | None, role: str | None, error: type) -> None:
    with pytest.raises(error):
        promoter(actor, role)
