"""structlog configuration: JSON lines bound with event id, correlation id, model and trace.

Libraries log through the standard library (aiokafka, urllib3, uvicorn, sqlalchemy, asyncio);
their records go through the same processors and renderer, so stderr holds one JSON object a
line whoever wrote it.
"""

from __future__ import annotations

import logging
import sys

import structlog
from opentelemetry import trace
from structlog.typing import EventDict, Processor, WrappedLogger

_OWN_HANDLERS = ("faststream", "uvicorn", "uvicorn.access")
"""Loggers a library gives its own text handler (and stops from propagating): faststream at
import, uvicorn whenever a ``uvicorn.Config`` is built with its default ``log_config``."""


def _stderr_logger(*_: object) -> structlog.PrintLogger:
    """A logger on whatever ``sys.stderr`` is now (not the stream at configure time, which a
    test runner or a daemoniser may have closed since)."""
    return structlog.PrintLogger(file=sys.stderr)


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when a record comes (see ``_stderr_logger``)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def add_trace_ids(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Add ``trace_id`` and ``span_id`` (W3C hex) when a span is active."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict


def configure_logging(level: str = "INFO", fmt: str = "json", service: str | None = None) -> None:
    """Route structlog and stdlib logging to stderr as JSON (or console) lines."""
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_ids,
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    _route_stdlib_logging(level, shared, renderer)
    if service:
        structlog.contextvars.bind_contextvars(service=service)


def _route_stdlib_logging(level: str, shared: list[Processor], renderer: Processor) -> None:
    """Replace the root logger's handlers with one rendering through structlog's chain."""
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.StackInfoRenderer(),
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):  # ours or basicConfig's; never a test's capture handler
        if type(old) in (_StderrHandler, logging.StreamHandler):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _OWN_HANDLERS:  # libraries that print text themselves: through ours instead
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    """A lazy structlog logger: it picks up the configuration in force when it first logs."""
    return structlog.get_logger(name)  # type: ignore[no-any-return]  # structlog returns Any
