"""Models trained in a notebook, turned into a file the platform accepts (never a pickle).

scikit-learn estimators and pipelines are written with skops; LightGBM and XGBoost
estimators (or a pipeline ending in one) as a native model archive holding LightGBM's text
model or XGBoost's UBJSON model. The serializers are imported on first use, so importing
the client (and running the CLI) does not import scikit-learn.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driftline.training.records import SubmissionStatus

WAIT_INTERVAL_S = 1.0


class SubmissionTimeoutError(TimeoutError):
    """A submission's scoring job did not finish in the time given."""


def model_file(estimator: Any) -> bytes:
    """The fitted ``estimator`` as bytes in a safe format (skops or a native archive)."""
    from driftline.training.formats import serialize_model

    return serialize_model(estimator)[0]


def read_model_file(path: str | Path) -> bytes:
    """A model file's bytes (an empty file is refused here, before the upload)."""
    data = Path(path).read_bytes()
    if not data:
        raise ValueError(f"{path} is empty")
    return data


def status(answer: Any) -> SubmissionStatus:
    """A submission's status from its JSON."""
    return SubmissionStatus.model_validate(answer)


def timed_out(found: SubmissionStatus, timeout_s: float) -> SubmissionTimeoutError:
    """The error of a submission still not done after ``timeout_s``."""
    message = f"submission {found.submission_id} still {found.status} after {timeout_s:g} s"
    return SubmissionTimeoutError(message)


def wait(
    ask: Callable[[], SubmissionStatus], timeout_s: float, interval_s: float = WAIT_INTERVAL_S,
    sleep: Callable[[float], None] = time.sleep,
) -> SubmissionStatus:  # fmt: skip
    """Ask until the submission is done; ``SubmissionTimeoutError`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not (found := ask()).done:
        if time.monotonic() >= deadline:
            raise timed_out(found, timeout_s)
        sleep(interval_s)
    return found
