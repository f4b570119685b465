"""Predicts too slow for the event loop run on the process's own predict threads
(``PREDICT_THREADS``, one by default), so concurrent requests queue for one thread instead of
contending for the GIL in many (measured in the workers benchmark: 6 threads 195 calls/s,
1 thread 337, 100-row HistGradientBoosting)."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from driftline.deployment.deps import predict_executor
from driftline.deployment.serving import answer
from driftline.deployment.serving.answer import serve
from driftline.deployment.settings import DeploymentSection
from tests.unit.deployment.batching import bodies, serving_deps


class SlowPredicts:
    """The real predict, made slow (the GIL released while it sleeps), recording its threads
    and how many ran at once."""

    def __init__(self) -> None:
        self.threads: set[str] = set()
        self.running = self.most = 0
        self.lock = threading.Lock()

    def __call__(self, model: Any, rows: Any) -> tuple[Any, float, float]:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.threads.add(threading.current_thread().name)
        time.sleep(0.05)
        predicted, latency, _ = ORIGINAL(model, rows)
        with self.lock:
            self.running -= 1
        return predicted, latency, 50.0  # CPU-heavy as far as routing is concerned: threads


ORIGINAL = answer._predict


@pytest.mark.parametrize(("threads", "at_once"), [(1, 1), (3, 3)])
async def test_concurrent_slow_predicts_run_on_the_predict_threads_only(
    tmp_path: Path, monkeypatch, threads: int, at_once: int
) -> None:
    slow = SlowPredicts()
    monkeypatch.setattr(answer, "_predict", slow)
    deps = dataclasses.replace(
        serving_deps(tmp_path, None), predict_pool=predict_executor(threads)
    )
    served = await asyncio.gather(*(serve(None, deps, "m", r, None) for r in bodies(9)))  # type: ignore[arg-type]
    assert [len(s) for s in served] == [len(r) for r in bodies(9)]
    assert slow.most == at_once
    assert all(name.startswith("driftline-predict") for name in slow.threads)
    assert len(slow.threads) == at_once


def test_one_predict_thread_by_default_and_bounded() -> None:
    assert DeploymentSection().predict_threads == 1
    with pytest.raises(ValueError, match="predict_threads"):
        DeploymentSection(predict_threads=0)
