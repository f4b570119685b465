"""Fixtures shared by every test tier: one real stack per test session, started on first use.

``local_stack`` uses explicit ``DRIFTLINE_*`` URLs from the environment when all three are set
(compose, real clusters); otherwise it starts the Docker-free local stack in a temp folder and
stops it at the end of the session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from driftline.stack import LocalStack, StackInfo, external_stack_from_env
from tests.own_stack import stack_of_its_own

# Property tests draw the same examples on every run (derandomize, no example database), so a
# test suite result depends on the code alone; a health check that times data generation is
# a verdict on the machine's load, not the code. HYPOTHESIS_PROFILE=explore draws new examples.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("explore", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pytest_configure(config: pytest.Config) -> None:
    """One BLAS/OpenMP thread per process unless the environment says otherwise: two xdist
    workers and the services they spawn already fill two cores, and a library spinning a
    thread per core on a busy machine fitted the same logistic regression 10x slower."""
    unset = [name for name in THREAD_VARIABLES if name not in os.environ]
    for name in unset:
        os.environ[name] = "1"  # read when the workers, services and libraries start
    if unset:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # no stubs

        threadpool_limits(1)  # libraries this process loaded before this hook


@pytest.fixture(scope="session", autouse=True)
def _services_on_free_ports() -> Iterator[None]:
    """Service processes the tests spawn take free ports, not 8101 to 8107: the two xdist
    workers (and anything else on this machine) may run services at the same time. Stacks the
    tests start run PostgreSQL without fsync (a killed server loses nothing; only a crashed
    machine would), unless DRIFTLINE_STACK_NO_FSYNC=0 is exported."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DRIFTLINE_SERVICE_PORTS", "free")
        patch.setenv("DRIFTLINE_STACK_NO_FSYNC", os.environ.get("DRIFTLINE_STACK_NO_FSYNC", "1"))
        yield


@pytest.fixture(scope="session")
def _session_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack | None]:
    """The session's LocalStack (started here), or None when the environment names one."""
    if external_stack_from_env() is not None:
        yield None
        return
    stack = LocalStack(tmp_path_factory.mktemp("stack"))
    try:
        stack.up()
        yield stack
    finally:
        stack.down()


@pytest.fixture(scope="session")
def local_stack(_session_stack: LocalStack | None) -> StackInfo:
    """Connection settings of the session's stack (external or local)."""
    external = external_stack_from_env()
    if _session_stack is None and external is not None:
        return external
    assert _session_stack is not None
    return _session_stack.info()


@pytest.fixture(scope="session")
def local_stack_control(_session_stack: LocalStack | None) -> LocalStack:
    """The LocalStack, for tests that kill or restart servers; skipped on external stacks."""
    if _session_stack is None:
        pytest.skip("external stack from DRIFTLINE_* URLs: no process control")
    return _session_stack


@pytest.fixture(scope="module")
def own_stack(
    tmp_path_factory: pytest.TempPathFactory, local_stack_control: LocalStack
) -> Iterator[LocalStack]:
    """A stack of the test module's own (see ``tests/own_stack.py``), for modules that run
    service processes; needs a local session stack (skipped on external ones)."""
    with stack_of_its_own(tmp_path_factory.mktemp("own") / "stack") as stack:
        yield stack


@pytest.fixture(scope="session")
def stack_env(local_stack: StackInfo) -> dict[str, str]:
    """The ``DRIFTLINE_*`` settings of the stack as a plain dict (nothing is exported)."""
    return local_stack.env()


@pytest.fixture
def stack_environ(
    local_stack: StackInfo,
    stack_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, str]]:
    """Export the stack's settings and DRIFTLINE_HOME for one test (RuntimeSettings.load()).
    Per test, not per session: exported for the session, the stack's tokens file reached every
    later test on the worker, and a unit test that chose DRIFTLINE_AUTH__DISABLED then had two
    ways to authenticate (its failure depended on the order the files ran in)."""
    home = local_stack.home or tmp_path_factory.mktemp("driftline-home")
    values = {**stack_env, "DRIFTLINE_HOME": str(home)}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in values.items():
            patch.setenv(key, value)
        yield values


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    """Print the reliability scenarios' figures (here, not in tests/reliability/conftest.py:
    under xdist the controller never loads conftest files below the test paths)."""
    from tests.reliability.figures import recorded

    found = recorded(config)
    if found is None:
        return
    terminalreporter.section("reliability figures")
    terminalreporter.write_line(found.table())
    terminalreporter.write_line(f"(JSON: {found.path})")
