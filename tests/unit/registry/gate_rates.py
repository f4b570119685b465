"""The beat_champion gate's error rates on simulated holdouts, seed by seed.

Run ``.venv/bin/python -m tests.unit.registry.gate_rates`` to print the rates quoted in
docs/registry.md (200 seeds per scenario, margin 0, about a minute of CPU).
"""

from __future__ import annotations

import numpy as np

from driftline.registry.champion_gate import improvement, passes
from driftline.training.comparison import Outputs, paired_bootstrap


def _pair(kind: str, rows: int, worse: float, seed: int) -> tuple[np.ndarray, Outputs, Outputs]:
    """Truth, a candidate ``worse`` than the champion (0: equally good), the champion."""
    rng = np.random.default_rng(1000 + seed)
    if kind == "regression":  # rmse of the candidate (1 + worse) times the champion's
        truth = rng.normal(size=rows) * 10
        candidate = truth + rng.normal(size=rows) * (1 + worse)
        return truth, Outputs(candidate), Outputs(truth + rng.normal(size=rows))
    truth = rng.integers(0, 2, rows)  # accuracy 0.85 - worse against 0.85
    candidate = np.where(rng.random(rows) < 0.85 - worse, truth, 1 - truth)
    champion = np.where(rng.random(rows) < 0.85, truth, 1 - truth)
    return truth, Outputs(candidate), Outputs(champion)


def called_worse(kind: str, rows: int, worse: float, seeds: int, margin: float = 0.0) -> float:
    """Share of seeds whose candidate the gate rejects."""
    metric = "rmse" if kind == "regression" else "accuracy"
    rejected = 0
    for seed in range(seeds):
        truth, candidate, champion = _pair(kind, rows, worse, seed)
        (found,) = paired_bootstrap(kind, truth, candidate, champion, [metric], seed=42)
        _, low, high = improvement(metric, found)
        rejected += not passes(margin, low, high)
    return rejected / seeds


def main() -> None:
    """Print every scenario's rate."""
    for kind, worse in (("regression", 0.05), ("classification", 0.05)):
        for rows in (500, 2000):
            equal = called_worse(kind, rows, 0.0, 200)
            caught = called_worse(kind, rows, worse, 200)
            print(f"{kind:15s} {rows:5d} rows: equal called worse {equal:6.1%}, "
                  f"{worse:g} worse caught {caught:6.1%}")  # fmt: skip


if __name__ == "__main__":
    main()
