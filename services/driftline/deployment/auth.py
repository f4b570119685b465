"""Who calls an operator endpoint: the ``X-Driftline-Actor`` / ``X-Driftline-Role`` headers.

The registry's approval endpoints read the same headers. The runtime's auth middleware
(``driftline.runtime.auth``) sets them from the bearer token and drops what the client sent;
only with ``DRIFTLINE_AUTH__TRUST_GATEWAY_HEADERS`` does a gateway set them. This module only
checks them.
"""

from __future__ import annotations

import re

ACTOR_HEADER, ROLE_HEADER = "X-Driftline-Actor", "X-Driftline-Role"
PROMOTER_ROLES = frozenset({"approver", "admin"})
_USER_ACTOR = re.compile(r"user:[A-Za-z0-9@._/-]{1,127}")


class NotAuthenticatedError(PermissionError):
    """No acting user was named."""


class NotAllowedError(PermissionError):
    """The acting user lacks a role the operation needs."""


def promoter(actor: str | None, role: str | None) -> str:
    """The acting user if they may promote; otherwise why not."""
    if not actor:
        raise NotAuthenticatedError(f"promotion needs {ACTOR_HEADER}: user:NAME")
    if not _USER_ACTOR.fullmatch(actor):
        raise ValueError(f"{ACTOR_HEADER} must look like user:NAME, not {actor[:140]!r}")
    if role not in PROMOTER_ROLES:
        roles = " or ".join(sorted(PROMOTER_ROLES))
        raise NotAllowedError(f"promotion needs the {roles} role in {ROLE_HEADER}")
    return actor
