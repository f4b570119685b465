"""Integration tests: every test here is marked ``integration``.

The session's real stack (``local_stack`` and friends) lives in ``tests/conftest.py`` so the
reliability tests share the same one; ``store`` is an artifact store on its bucket.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from driftline.runtime.settings import RuntimeSettings, StorageSettings
from driftline.runtime.storage import build_artifact_store
from driftline.runtime.storage.ports import ArtifactStore
from driftline.stack.info import StackInfo

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration with ``integration``."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)


def storage_settings(env: dict[str, str], **overrides: object) -> StorageSettings:
    """StorageSettings read from ``DRIFTLINE_*`` variables, the way a service reads them."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        settings = RuntimeSettings(_env_file=None)  # type: ignore[call-arg]
    return settings.storage.model_copy(update=overrides)


@pytest.fixture
async def store(local_stack: StackInfo) -> ArtifactStore:
    """A store on the stack's bucket, writing under a prefix of its own."""
    settings = storage_settings(local_stack.env(), prefix=f"tests/{uuid.uuid4().hex}")
    store = build_artifact_store(settings)
    await store.ensure_bucket()
    return store
