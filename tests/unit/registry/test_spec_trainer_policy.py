"""POST /v1/specs (and so ``driftline apply``) refuses a trainer the operator's policy does not
allow, with a 422 naming the field, before anything is stored or announced (issue #15)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from driftline.cli.registry import RegistryClient, RegistryError
from driftline.registry.specs_api import specs_router
from driftline.runtime.http import add_error_handlers
from driftline.runtime.settings import TrainerSettings

PLUGINS = Path(__file__).parents[1] / "training" / "trainer_plugins"


class ReachedStorageError(Exception):
    """The spec got past every check and the registry opened a transaction to store it."""


class _Runtime(SimpleNamespace):
    """What the spec router reads of the service runtime: settings and units of work."""

    opened: int = 0

    @asynccontextmanager
    async def units(self, **_: Any) -> AsyncIterator[None]:
        self.opened += 1
        raise ReachedStorageError
        yield


def _client(**settings: Any) -> tuple[TestClient, _Runtime]:
    runtime = _Runtime(settings=SimpleNamespace(trainers=TrainerSettings(**settings)))
    app = FastAPI()
    app.include_router(specs_router(runtime))  # type: ignore[arg-type]
    add_error_handlers(app)  # as every service's app has them
    return TestClient(app), runtime


def _spec(trainer: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": "churn-clf",
        "dataset": "churn",
        "target": "churned",
        "task": "classification",
        "trainer": trainer,
    }


@pytest.fixture
def marker(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "MARKER"
    yield path
    assert not path.exists(), "the spec's shell command ran"


def test_the_popen_attack_is_a_422_naming_the_field(marker: Path) -> None:
    api, runtime = _client()
    attack = {
        "estimator": "subprocess.Popen",
        "params": {"args": ["/bin/sh", "-c", f"id > {marker}"]},
    }
    answer = api.post("/v1/specs", json=_spec(attack), headers={"X-Driftline-Actor": "user:m"})
    assert answer.status_code == 422
    (error,) = answer.json()["detail"]
    assert error["loc"] == ["body", "trainer", "estimator"]
    assert error["type"] == "trainer_not_allowed"
    assert "'subprocess.Popen' is not an allowed estimator" in error["msg"]
    assert runtime.opened == 0  # nothing stored, no ModelSpecApplied


@pytest.mark.parametrize(
    ("trainer", "loc"),
    [
        ({"estimator": "os.system", "params": {"command": "id"}}, "estimator"),
        ({"estimator": "builtins.eval"}, "estimator"),
        ({"estimator": "sklearn.utils._testing.MinimalClassifier"}, "estimator"),
        ({"estimator": "sklearn.preprocessing.FunctionTransformer"}, "estimator"),
        ({"function": "os:system"}, "function"),
        ({"function": "tests.unit.training.plugins:train_logistic"}, "function"),
        (
            {"estimator": "sklearn.linear_model.LogisticRegression", "params": {"CC": 1}},
            "params.CC",
        ),
    ],
)
def test_hostile_trainers_are_422s_naming_the_field(
    marker: Path, trainer: dict[str, Any], loc: str
) -> None:
    api, runtime = _client()
    answer = api.post("/v1/specs", json=_spec(trainer))
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "trainer", *loc.split(".")]
    assert runtime.opened == 0


def test_an_unknown_param_names_the_nearest_valid_one() -> None:
    api, _ = _client()
    trainer = {"estimator": "sklearn.ensemble.RandomForestClassifier", "params": {"max_dept": 3}}
    (error,) = api.post("/v1/specs", json=_spec(trainer)).json()["detail"]
    assert "did you mean 'max_depth'" in error["msg"]


def test_allowed_trainers_reach_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))  # installs the test trainer plug-ins
    api, runtime = _client()
    forest = {"estimator": "sklearn.ensemble.RandomForestClassifier", "params": {"max_depth": 3}}
    for trainer in (forest, {"function": "train_logistic"}):
        with pytest.raises(ReachedStorageError):
            api.post("/v1/specs", json=_spec(trainer))
    assert runtime.opened == 2


def test_the_operator_list_decides() -> None:
    api, _ = _client(estimators=["sklearn.linear_model.LogisticRegression"])
    forest = {"estimator": "sklearn.ensemble.RandomForestClassifier"}
    assert api.post("/v1/specs", json=_spec(forest)).status_code == 422
    with pytest.raises(ReachedStorageError):
        api.post("/v1/specs", json=_spec({"estimator": "sklearn.linear_model.LogisticRegression"}))


def test_driftline_apply_reports_the_refused_field(marker: Path) -> None:
    """What ``driftline apply`` prints: the client's error carries the field and the reason."""
    api, _ = _client()

    def registry(request: httpx.Request) -> httpx.Response:
        answer = api.request(
            request.method, request.url.path, content=request.content, headers=request.headers
        )
        return httpx.Response(answer.status_code, content=answer.content, headers=answer.headers)

    client = RegistryClient("http://registry.test", transport=httpx.MockTransport(registry))
    attack = {
        "estimator": "subprocess.Popen",
        "params": {"args": ["/bin/sh", "-c", f"id > {marker}"]},
    }
    with pytest.raises(RegistryError) as refused:
        client.apply(_spec(attack), "user:mallory")
    assert str(refused.value).startswith("422: body.trainer.estimator: 'subprocess.Popen'")
