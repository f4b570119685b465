"""Routing: the canary gets its share of keys, the same keys stay, random without a key."""

from __future__ import annotations

import random

import pytest

from driftline.deployment.serving.routing import choose_variant

KEYS = [f"user-{i}" for i in range(10_000)]


@pytest.mark.parametrize("percent", [5.0, 25.0, 50.0])
def test_share_of_keys_matches_the_step(percent: float) -> None:
    share = sum(choose_variant("canary-1", percent, key) == "canary" for key in KEYS) / len(KEYS)
    assert share == pytest.approx(percent / 100, abs=0.02)


def test_a_key_is_sticky_and_stays_canary_as_the_share_grows() -> None:
    at_5 = {k for k in KEYS if choose_variant("canary-1", 5.0, k) == "canary"}
    again = {k for k in KEYS if choose_variant("canary-1", 5.0, k) == "canary"}
    at_25 = {k for k in KEYS if choose_variant("canary-1", 25.0, k) == "canary"}
    assert at_5 == again
    assert at_5 <= at_25


def test_without_a_key_the_split_is_random_at_the_share() -> None:
    rng = random.Random(7)
    share = sum(choose_variant("canary-1", 25.0, None, rng) == "canary" for _ in KEYS) / len(KEYS)
    assert share == pytest.approx(0.25, abs=0.02)


def test_without_a_canary_everything_goes_to_the_champion() -> None:
    assert {choose_variant(None, 50.0, key) for key in KEYS[:100]} == {"champion"}
