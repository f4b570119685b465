"""Training processes: results come back from another process; overlong runs are killed."""

from __future__ import annotations

from pathlib import Path

from driftline.training.pool import TrainingPool
from tests.unit.training.builders import cancer, policy, spec


async def test_training_runs_in_a_process_and_times_out(tmp_path: Path) -> None:
    path = tmp_path / "cancer.csv"
    cancer().to_csv(path, index=False)
    pool = TrainingPool(max_workers=1, policy=policy())
    done = await pool.train(str(path), "csv", spec().model_dump(mode="json"), 10_000, 60)
    assert done.failure is None
    assert done.metrics["accuracy"] > 0.9
    slow = spec(trainer={"function": "sleep_forever"})
    late = await pool.train(str(path), "csv", slow.model_dump(mode="json"), 10_000, 3)
    assert late.failure is not None
    assert late.failure[0] == "timeout"
