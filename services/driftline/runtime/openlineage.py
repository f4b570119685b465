"""OpenLineage run events (START, COMPLETE, FAIL) for validation and training runs.

Events are built with the official ``openlineage-python`` classes and sent through its
transports (file, HTTP, console), so Marquez and other OpenLineage backends see Driftline's
runs with their input datasets and output models. ``transport="none"`` (the default) sends
nothing. Emission is best effort: a lineage backend that is down never fails a run.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from driftline.runtime.logging import get_logger
from driftline.runtime.settings import OpenLineageSettings

log = get_logger(__name__)
PRODUCER = "https://github.com/driftline/driftline"
_RUN_NAMESPACE = uuid.UUID("5b0c1e7e-2f0a-4d61-9a55-4f1d3c1e0b7a")


def run_id_for(key: str) -> str:
    """A stable OpenLineage run id (UUID) for a Driftline run key, e.g. the cause event id."""
    return str(uuid.uuid5(_RUN_NAMESPACE, key))


def _client(settings: OpenLineageSettings) -> Any:
    from openlineage.client import OpenLineageClient

    if settings.transport == "file":
        from openlineage.client.transport.file import FileConfig, FileTransport

        config = FileConfig(log_file_path=settings.file_path, append=True)
        return OpenLineageClient(transport=FileTransport(config))
    if settings.transport == "http":
        from openlineage.client.transport.http import HttpConfig, HttpTransport

        return OpenLineageClient(
            transport=HttpTransport(
                HttpConfig(
                    url=settings.url or "",
                    endpoint=settings.endpoint,
                    timeout=5.0,
                    retry={"total": 2, "backoff_factor": 0.2, "allowed_methods": ["POST"]},
                )
            )
        )
    from openlineage.client.transport.console import ConsoleConfig, ConsoleTransport

    return OpenLineageClient(transport=ConsoleTransport(ConsoleConfig()))


class LineageEmitter:
    """Sends START/COMPLETE/FAIL for one job namespace."""

    def __init__(self, settings: OpenLineageSettings) -> None:
        self._settings = settings
        self._client = _client(settings) if settings.transport != "none" else None

    @property
    def enabled(self) -> bool:
        """Whether events are sent anywhere."""
        return self._client is not None

    async def emit(
        self,
        state: str,
        *,
        job: str,
        run_id: str,
        inputs: Sequence[tuple[str, str]] = (),
        outputs: Sequence[tuple[str, str]] = (),
        error: str | None = None,
    ) -> None:
        """Send one run event; ``inputs``/``outputs`` are (namespace, name) pairs."""
        if self._client is None:
            return
        event = self._event(
            state, job=job, run_id=run_id, inputs=inputs, outputs=outputs, error=error
        )
        try:
            await asyncio.to_thread(self._client.emit, event)
        except Exception as exc:  # lineage is observability: never fail the run for it
            log.warning("openlineage event not sent", error=repr(exc), job=job)

    def _event(
        self,
        state: str,
        *,
        job: str,
        run_id: str,
        inputs: Sequence[tuple[str, str]],
        outputs: Sequence[tuple[str, str]],
        error: str | None,
    ) -> Any:
        from openlineage.client.event_v2 import (
            InputDataset,
            Job,
            OutputDataset,
            Run,
            RunEvent,
            RunState,
        )
        from openlineage.client.facet_v2 import error_message_run
        from openlineage.client.generated.base import RunFacet

        facets: dict[str, RunFacet] = {}
        if error is not None:
            facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=error, programmingLanguage="python"
            )
        return RunEvent(
            eventType=RunState[state],
            eventTime=datetime.now(UTC).isoformat(),
            producer=PRODUCER,
            run=Run(runId=run_id, facets=facets),
            job=Job(namespace=self._settings.namespace, name=job),
            inputs=[InputDataset(namespace=ns, name=name) for ns, name in inputs],
            outputs=[OutputDataset(namespace=ns, name=name) for ns, name in outputs],
        )
