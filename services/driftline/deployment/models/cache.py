"""The in-process model cache: loaded versions by (model, version); PostgreSQL says which."""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from driftline.deployment.models.loading import LoadedModel, fetch_model
from driftline.runtime.storage import ArtifactStore
from driftline_contracts.values import ArtifactRef, ModelRef


class ModelCache:
    """Least-recently-used cache of loaded models; a miss fetches, verifies and loads."""

    def __init__(self, store: ArtifactStore, size: int = 8) -> None:
        self._store = store
        self._size = size
        self._models: OrderedDict[tuple[str, int], LoadedModel] = OrderedDict()
        self._locks: dict[tuple[str, int], asyncio.Lock] = {}

    async def get(self, model: ModelRef, artifact: ArtifactRef) -> LoadedModel:
        """The loaded model, from memory or freshly fetched (once, even under concurrency)."""
        key = (model.name, model.version)
        if key in self._models:
            self._models.move_to_end(key)
            return self._models[key]
        async with self._locks.setdefault(key, asyncio.Lock()):
            if key not in self._models:
                self.put(model, await fetch_model(self._store, artifact))
        return self._models[key]

    async def load(self, model: ModelRef, artifact: ArtifactRef) -> None:
        """Fetch, verify and keep an approved version (its refusal raises, nothing is kept)."""
        self.put(model, await fetch_model(self._store, artifact))

    def put(self, model: ModelRef, loaded: LoadedModel) -> None:
        """Keep ``loaded``, evicting the least recently used version when full."""
        key = (model.name, model.version)
        self._models[key] = loaded
        self._models.move_to_end(key)
        while len(self._models) > self._size:
            evicted, _ = self._models.popitem(last=False)
            self._locks.pop(evicted, None)
