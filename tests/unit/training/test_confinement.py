"""Training processes run confined: memory and CPU limits, no service secrets in their env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from driftline.training.confinement import ProcessLimits
from driftline.training.pool import TrainingPool
from driftline.training.settings import TrainingSection, process_limits
from tests.unit.training.builders import cancer, policy, spec

GIB = 1024**3

PROBE = """
import json, os, resource
from driftline.training.confinement import ProcessLimits, confine
confine(ProcessLimits(memory_bytes=3 * 1024**3, cpu_s=30))
print(json.dumps({
    "env": sorted(n for n in os.environ if n.startswith("DRIFTLINE_")),
    "as": resource.getrlimit(resource.RLIMIT_AS),
    "cpu": resource.getrlimit(resource.RLIMIT_CPU),
    "core": resource.getrlimit(resource.RLIMIT_CORE),
}))
"""


def test_confine_drops_the_service_secrets_and_sets_the_limits() -> None:
    env = {
        **os.environ,
        "DRIFTLINE_DATABASE__URL": "postgresql+asyncpg://driftline:SECRET@db/driftline",
        "DRIFTLINE_STORAGE__SECRET_KEY": "s3-secret",
        "DRIFTLINE_AUTH__TOKENS": "token user:a admin",
        "DRIFTLINE_LOG_LEVEL": "DEBUG",
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    seen = json.loads(out.stdout)
    assert seen["env"] == ["DRIFTLINE_LOG_LEVEL"]
    assert seen["as"] == [3 * GIB, 3 * GIB]
    assert seen["cpu"] == [30, 30]
    assert seen["core"] == [0, 0]


def _data(tmp_path: Path) -> str:
    path = tmp_path / "cancer.csv"
    cancer().to_csv(path, index=False)
    return str(path)


async def test_a_fit_past_the_memory_limit_is_a_resource_limit(tmp_path: Path) -> None:
    pool = TrainingPool(1, policy(), ProcessLimits(memory_bytes=3 * GIB))
    data = _data(tmp_path)
    hog = spec(trainer={"function": "hog_memory"}).model_dump(mode="json")
    failed = await pool.train(data, "csv", hog, 10_000, 60)
    assert failed.failure is not None
    assert failed.failure[0] == "resource_limit"
    fine = await pool.train(data, "csv", spec().model_dump(mode="json"), 10_000, 60)
    assert fine.failure is None


async def test_a_fit_past_the_cpu_limit_is_killed_as_a_resource_limit(tmp_path: Path) -> None:
    pool = TrainingPool(1, policy(), ProcessLimits(cpu_s=2))
    burn = spec(trainer={"function": "spin"}).model_dump(mode="json")
    output = await pool.train(_data(tmp_path), "csv", burn, 10_000, 50)
    assert output.failure is not None
    assert output.failure[0] == "resource_limit"
    assert "died" in output.failure[1]


def test_limits_come_from_the_training_settings() -> None:
    section = TrainingSection(max_memory_bytes=8 * GIB, max_cpu_s=7200)
    assert process_limits(section) == ProcessLimits(memory_bytes=8 * GIB, cpu_s=7200)
    assert process_limits(TrainingSection()) == ProcessLimits()
