"""Driftline from a notebook: ``Client`` / ``AsyncClient`` over the services' HTTP APIs.

``with Client().start_run(experiment="churn", dataset="churn@3") as run:``
``run.log_params(...)``, ``run.log_metrics(..., step=...)``, ``run.log_artifact(path)``.
``read_predictions("churn", "2026-03-01")``: a day of logged predictions as a DataFrame.
Nothing connects at import; tokens and URLs are found like the CLI finds them.
"""

from driftline.client.aio import AsyncClient, AsyncRun
from driftline.client.connection import ClientError
from driftline.client.predictions import read_predictions
from driftline.client.sync import Client, Run

__all__ = ["AsyncClient", "AsyncRun", "Client", "ClientError", "Run", "read_predictions"]
