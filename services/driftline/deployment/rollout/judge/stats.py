"""Interval and effect-size statistics for the canary judge, pure and deterministic."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import stats

Statistic = Callable[[np.ndarray], np.ndarray]
"""Row-wise statistic of a (rounds, n) array of resampled values."""

_CHUNK = 200


def mean_rows(values: np.ndarray) -> np.ndarray:
    """The mean of each resample."""
    return values.mean(axis=1)


def root_mean_square_rows(values: np.ndarray) -> np.ndarray:
    """The root mean square of each resample (RMSE when the values are errors)."""
    return np.sqrt(np.mean(values**2, axis=1))


def _resampled(
    values: np.ndarray, statistic: Statistic, rounds: int, rng: np.random.Generator
) -> np.ndarray:
    out = np.empty(rounds)
    for start in range(0, rounds, _CHUNK):
        size = min(_CHUNK, rounds - start)
        picks = rng.integers(0, len(values), size=(size, len(values)))
        out[start : start + size] = statistic(values[picks])
    return out


def bootstrap_delta(
    champion: np.ndarray,
    canary: np.ndarray,
    statistic: Statistic,
    *,
    relative: bool,
    alpha: float,
    rounds: int,
    seed: int,
) -> tuple[float, float, float]:
    """(delta, low, high): canary's statistic minus the champion's (``relative``: divided by
    the champion's), with the percentile interval of independent resamples of each variant."""
    rng = np.random.default_rng(seed)
    base = float(statistic(champion[None, :])[0])
    own = float(statistic(canary[None, :])[0])
    a = _resampled(champion, statistic, rounds, rng)
    b = _resampled(canary, statistic, rounds, rng)
    if relative:
        delta = float(_ratio(np.array(own), np.array(base)))
        draws = _ratio(b, a)
    else:
        delta, draws = own - base, b - a
    low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    return delta, float(low), float(high)


def _ratio(canary: np.ndarray, champion: np.ndarray) -> np.ndarray:
    """Relative change; a perfect champion makes any canary error a (capped) huge increase."""
    safe = np.where(champion > 0, champion, 1.0)
    with np.errstate(over="ignore"):  # a subnormal champion error overflows to inf: capped
        change = np.minimum(canary / safe - 1, 1e6)
    return np.where(champion > 0, change, np.where(canary > 0, 1e6, 0.0))


def wilson(hits: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval of a proportion."""
    p = hits / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_delta(
    hits_a: int, n_a: int, hits_b: int, n_b: int, alpha: float
) -> tuple[float, float, float]:
    """(delta, low, high) of p_b - p_a by Newcombe's hybrid score interval (Wilson-based)."""
    z = float(stats.norm.ppf(1 - alpha / 2))
    p_a, p_b = hits_a / n_a, hits_b / n_b
    low_a, high_a = wilson(hits_a, n_a, z)
    low_b, high_b = wilson(hits_b, n_b, z)
    delta = p_b - p_a
    low = delta - math.sqrt((p_b - low_b) ** 2 + (high_a - p_a) ** 2)
    high = delta + math.sqrt((high_b - p_b) ** 2 + (p_a - low_a) ** 2)
    return delta, low, high


def two_proportion_z(hits_a: int, n_a: int, hits_b: int, n_b: int) -> tuple[float, float]:
    """(z, two-sided p) of the pooled two-proportion z-test, b against a."""
    pooled = (hits_a + hits_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 0.0, 1.0
    z = (hits_b / n_b - hits_a / n_a) / se
    return z, float(2 * stats.norm.sf(abs(z)))


def superiority(champion: np.ndarray, canary: np.ndarray) -> tuple[float, float, float]:
    """(P(canary > champion) + ties/2, one-sided Mann-Whitney p that canary is larger, and that
    it is smaller): the common-language effect size (Vargha-Delaney A) with its tests."""
    greater = stats.mannwhitneyu(canary, champion, alternative="greater")
    less = stats.mannwhitneyu(canary, champion, alternative="less")
    effect = float(greater.statistic) / (len(canary) * len(champion))
    return effect, float(greater.pvalue), float(less.pvalue)
