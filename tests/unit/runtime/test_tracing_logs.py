"""Every stderr line is one JSON object: structlog's, and the libraries' (aiokafka, urllib3,
uvicorn, sqlalchemy, asyncio) through the same renderer; a line logged in a span names it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog
import uvicorn

from driftline.runtime.broker import build_broker
from driftline.runtime.logging import configure_logging, get_logger
from driftline.runtime.settings import KafkaSettings
from tests.unit.runtime.tracing_fakes import memory_provider


@pytest.fixture
def json_logs() -> Iterator[None]:
    root, faststream = logging.getLogger(), logging.getLogger("faststream")
    handlers, level = list(root.handlers), root.level
    own = (list(faststream.handlers), faststream.propagate)
    configure_logging("INFO", "json", service="probe")
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    faststream.handlers[:], faststream.propagate = own
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def _lines(err: str) -> list[dict]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


@pytest.mark.usefixtures("json_logs")
def test_a_line_logged_in_a_span_carries_its_trace_and_span_id(capsys) -> None:
    provider, _ = memory_provider()
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("handle") as span:
        get_logger("driftline.validation").info("event handled")
        logging.getLogger("aiokafka.consumer").warning("rebalance")
    get_logger("driftline.validation").info("outside")
    inside, library, outside = _lines(capsys.readouterr().err)
    context = span.get_span_context()
    for line in (inside, library):
        assert line["trace_id"] == f"{context.trace_id:032x}"
        assert line["span_id"] == f"{context.span_id:016x}"
    assert "trace_id" not in outside
    assert inside["service"] == "probe"


@pytest.mark.usefixtures("json_logs")
@pytest.mark.parametrize(
    "name",
    ["aiokafka.conn", "urllib3.connectionpool", "uvicorn.error", "sqlalchemy.pool", "faststream"],
)
def test_library_records_come_out_as_json_lines(capsys, name: str) -> None:
    logging.getLogger(name).warning("connection to %s failed: %s", "broker:9092", "refused")
    (line,) = _lines(capsys.readouterr().err)
    assert line["event"] == "connection to broker:9092 failed: refused"
    assert line["logger"] == name
    assert line["level"] == "warning"
    assert line["service"] == "probe"
    assert line["timestamp"].endswith("Z")


@pytest.mark.usefixtures("json_logs")
def test_a_library_traceback_stays_inside_its_json_line(capsys) -> None:
    try:
        raise ConnectionResetError("peer went away")
    except ConnectionResetError:
        logging.getLogger("asyncio").exception("Task exception was never retrieved")
    err = capsys.readouterr().err
    (line,) = _lines(err)  # one line: the traceback is a field, not plain text lines after it
    assert "ConnectionResetError: peer went away" in line["exception"]
    assert len(err.strip().splitlines()) == 1


@pytest.mark.usefixtures("json_logs")
def test_configuring_twice_leaves_one_handler_and_debug_lines_stay_out(capsys) -> None:
    configure_logging("INFO", "json", service="probe")
    logging.getLogger("aiokafka").debug("noise")
    logging.getLogger("aiokafka").info("joined group")
    assert [line["event"] for line in _lines(capsys.readouterr().err)] == ["joined group"]


def test_the_brokers_own_lines_are_json_on_stderr_not_text_on_stdout(capsys) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging("DEBUG", "json", service="probe")
    try:
        broker = build_broker(KafkaSettings(), "probe", graceful_timeout_s=1)
        # What FastStream does when it starts and then per message, through the logger
        # state the broker was built with (TestKafkaBroker mocks the logger away).
        broker._setup_logger()
        broker.config.logger.log("Received")
        broker.config.logger.log("consumer failed", logging.ERROR)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()
    out, err = capsys.readouterr()
    assert out == ""  # FastStream's default: coloured text on stdout
    lines = [line for line in _lines(err) if line.get("logger") == "driftline.broker"]
    assert [(line["event"], line["level"]) for line in lines] == [
        ("Received", "debug"),  # per message: hidden at the default INFO
        ("consumer failed", "error"),
    ]


@pytest.mark.usefixtures("json_logs")
def test_uvicorn_configured_with_its_own_text_handlers_is_routed_through_json_again(
    capsys,
) -> None:
    """An embedded ``uvicorn.Config`` (default ``log_config``) gives uvicorn a text handler and
    stops it propagating; the next ``configure_logging`` brings its records back as JSON."""
    uvicorn.Config(app=None, log_level="warning")  # what a test server or a plain `uvicorn` does
    configure_logging("INFO", "json", service="probe")
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    (line,) = _lines(capsys.readouterr().err)
    assert line["logger"] == "uvicorn.error"
    assert line["event"] == "Invalid HTTP request received."
