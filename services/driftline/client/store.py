"""The object store the stack's services use, for readers outside them (CLI, notebooks): the
``DRIFTLINE_STORAGE__*`` settings of the environment, else the local stack's in
``$DRIFTLINE_HOME`` when one runs there."""

from __future__ import annotations

import os

from driftline.runtime.storage import ArtifactStore


def stack_store() -> ArtifactStore:
    """The configured store; the local stack's settings fill in what the environment lacks."""
    from driftline.runtime.settings import RuntimeSettings, driftline_home
    from driftline.runtime.storage import build_artifact_store
    from driftline.stack import LocalStack
    from driftline.stack.state import STATE_FILE

    home = driftline_home()
    configured = {"DRIFTLINE_STORAGE__BACKEND", "DRIFTLINE_STORAGE__ENDPOINT"} & set(os.environ)
    if not configured and (home / STATE_FILE).exists():
        for name, value in LocalStack(home).info().env().items():
            os.environ.setdefault(name, value)
    return build_artifact_store(RuntimeSettings().storage)
