"""Traffic routing between champion and canary: sticky by routing key, else random."""

from __future__ import annotations

import hashlib
import random
from typing import Literal

Variant = Literal["champion", "canary"]


def bucket(canary_id: str, routing_key: str) -> float:
    """A stable point in [0, 100) for a key within one rollout."""
    digest = hashlib.sha256(f"{canary_id}\x00{routing_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100.0


def choose_variant(
    canary_id: str | None,
    traffic_percent: float,
    routing_key: str | None,
    rng: random.Random | None = None,
) -> Variant:
    """``canary`` for ``traffic_percent`` of keys (the same keys as the share grows)."""
    if canary_id is None or traffic_percent <= 0:
        return "champion"
    point = (
        bucket(canary_id, routing_key)
        if routing_key is not None
        else (rng or random).random() * 100.0
    )
    return "canary" if point < traffic_percent else "champion"
