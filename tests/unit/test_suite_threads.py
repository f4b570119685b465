"""The suite runs one BLAS/OpenMP thread per process (tests/conftest.py) unless told otherwise."""

from __future__ import annotations

import os

import numpy as np
from threadpoolctl import threadpool_info  # type: ignore[import-untyped]  # no stubs

from tests.conftest import THREAD_VARIABLES


def test_the_thread_variables_reach_this_process_and_its_children() -> None:
    assert all(os.environ.get(name, "").isdigit() for name in THREAD_VARIABLES)


def test_loaded_thread_pools_keep_to_the_configured_count() -> None:
    np.ones((64, 64)) @ np.ones((64, 64))  # numpy's BLAS is loaded and has run
    wanted = int(os.environ["OPENBLAS_NUM_THREADS"])
    pools = threadpool_info()
    assert pools, "no BLAS or OpenMP library found loaded"
    assert {pool["num_threads"] for pool in pools} <= {wanted, int(os.environ["OMP_NUM_THREADS"])}
