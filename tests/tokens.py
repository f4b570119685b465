"""Bearer tokens for tests: the stack's role tokens, and named users for in-process services.

Services on the test stack run with auth on, as every service does: ``local_stack.env()``
points them at the stack's tokens file. A test that needs particular users (an approver who
is not the trainer, say) adds them with ``with_users`` and sends ``as_user`` headers.
"""

from __future__ import annotations

from collections.abc import Mapping

from driftline.stack import StackInfo
from driftline.stack.tokens import role_tokens

USERS_VAR = "DRIFTLINE_AUTH__TOKENS"


def stack_headers(info: StackInfo, role: str) -> dict[str, str]:
    """``Authorization`` with the stack's token of ``role`` (none on a stack without tokens)."""
    path = info.auth_tokens_file
    token = role_tokens(path).get(role) if path and path.exists() else None
    return {"Authorization": f"Bearer {token}"} if token else {}


def user_token(actor: str, role: str) -> str:
    """The test token of ``actor`` acting as ``role`` (``user:carol`` → ``t-approver-carol``)."""
    return f"t-{role}-{actor.removeprefix('user:')}"


def with_users(env: Mapping[str, str], *users: tuple[str, str]) -> dict[str, str]:
    """``env`` plus inline tokens for ``(actor, role)`` users, next to the stack's tokens file."""
    entries = [f"{user_token(actor, role)} {actor} {role}" for actor, role in users]
    return {**env, USERS_VAR: "; ".join(entries)}


def as_user(actor: str, role: str) -> dict[str, str]:
    """``Authorization`` for a user added with ``with_users``."""
    return {"Authorization": f"Bearer {user_token(actor, role)}"}
