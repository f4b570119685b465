"""A request whose rows the prediction log cannot take is refused with a typed 503 and
Retry-After, never answered unlogged and never a bare 500."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import HTTPException

from driftline.deployment.errors import PredictionNotLoggedError
from driftline.deployment.serving import http


async def test_an_unavailable_log_is_a_503_that_says_retry(monkeypatch) -> None:
    async def log_away(*_: Any, **__: Any) -> None:
        raise PredictionNotLoggedError("prediction log unavailable: NodeNotReadyError()")

    monkeypatch.setattr(http, "serve", log_away)
    runtime = SimpleNamespace(units=None, deps=SimpleNamespace(settings=SimpleNamespace(
        max_instances=10)))  # fmt: skip
    with pytest.raises(HTTPException) as refused:
        await http.predict(runtime, "churn", [{"age": 1}], None)  # type: ignore[arg-type]
    assert refused.value.status_code == 503
    assert refused.value.headers == {"Retry-After": "1"}
    assert "prediction log is unavailable" in str(refused.value.detail)
