"""Driftline under benchmark: the local stack, service processes and in-process runtimes.

The benchmarks feed events to a service's real ``EventProcessor`` (decode, inbox, handler,
outbox, one PostgreSQL commit) and call its HTTP API on a ``driftline serve`` process, all on
the Docker-free local stack (embedded PostgreSQL, tansu Kafka, rclone S3).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftline.runtime.consumer import EventProcessor
from driftline.runtime.deadletter import RawRecord
from driftline.runtime.event_signing import EventSigner, load_private_key
from driftline.runtime.logging import configure_logging
from driftline.runtime.migrations import migrate
from driftline.runtime.service import ServiceDefinition, ServiceRuntime
from driftline.runtime.settings import RuntimeSettings
from driftline.stack import LocalStack, StackInfo
from driftline.stack.event_keys import private_key_path
from driftline.stack.services import ServiceProcess, start_services, stop_services, wait_until_ready
from driftline_contracts.codec import encode
from driftline_contracts.envelope import new_envelope
from driftline_contracts.origin import SIGNED_BY
from driftline_contracts.publish import build_producer


def raw_record(
    event: Any, offset: int, *, actor: str = "user:bench", home: Path | None = None
) -> RawRecord:
    """``event`` as the consumer would receive it off Kafka (a fresh envelope each call);
    signed with the key of the service that emits its type, from the stack in ``home``."""
    envelope = new_envelope(event, source="bench/driftline", actor=actor)
    record = encode(event, envelope)
    headers = list(record.headers)
    signer = SIGNED_BY.get(event.ce_type)
    if home is not None and signer is not None:
        key = load_private_key(private_key_path(home, signer).read_text())
        headers += EventSigner(signer, key).signature(record.headers, record.value)
    return RawRecord(
        topic=record.topic, partition=0, offset=offset, key=record.key, value=record.value,
        headers=headers,
    )  # fmt: skip


async def publish_signed(info: StackInfo, event: Any, *, actor: str = "user:bench") -> None:
    """Publish ``event`` straight to Kafka, signed as ``raw_record`` signs it."""
    record = raw_record(event, 0, actor=actor, home=info.home)
    producer = build_producer(info.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            record.topic, record.value, key=record.key, headers=list(record.headers)
        )
    finally:
        await producer.stop()


@dataclass
class Stack:
    """A running local stack and the service processes started on it."""

    stack: LocalStack
    info: StackInfo
    services: list[ServiceProcess]

    def url(self, name: str) -> str:
        """Base URL of a started service."""
        return next(p.url for p in self.services if p.name == name)


@contextlib.contextmanager
def local_stack(services: tuple[str, ...] = (), say: Any = print) -> Iterator[Stack]:
    """A fresh local stack in a temp folder with ``services`` served; all stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="driftline-bench-") as folder:
        stack = LocalStack(Path(folder))
        say("starting the local stack (PostgreSQL, Kafka, S3)…")
        info = stack.up()
        processes: list[ServiceProcess] = []
        try:
            if services:
                processes = start_services(stack, info, list(services))
                wait_until_ready(processes)
            yield Stack(stack, info, processes)
        finally:
            stop_services(stack, processes)
            stack.down()


@contextlib.contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """Temporarily set environment variables (settings classes read them)."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def service_logging(path: Path) -> Iterator[None]:
    """Log like a service (JSON lines at INFO) into ``path`` instead of the terminal."""
    import structlog

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with path.open("a") as sink:
        saved, sys.stderr = sys.stderr, sink
        try:
            configure_logging("INFO", "json")
        finally:
            sys.stderr = saved
        try:
            yield
        finally:
            structlog.reset_defaults()
            root.handlers[:], root.level = handlers, level


def settings_for(
    info: StackInfo, cls: type[RuntimeSettings] = RuntimeSettings, **env: str
) -> RuntimeSettings:
    """Settings a service on ``info`` reads, with extra ``DRIFTLINE_*`` variables."""
    with environment({**info.env(), **env}):
        return cls()


@contextlib.asynccontextmanager
async def in_process(
    definition: ServiceDefinition, settings: RuntimeSettings, *, publish: bool = False
) -> AsyncIterator[ServiceRuntime]:
    """A service's runtime without its Kafka consumers: migrated, bucket ready, relay usable."""
    runtime = ServiceRuntime(definition, settings)
    await migrate(runtime.engine, runtime.schema, definition.migrations)
    await runtime.store.ensure_bucket()
    if publish:
        await runtime.publisher.start()
    try:
        yield runtime
    finally:
        if publish:
            await runtime.publisher.stop()
        await runtime.engine.dispose()


def processor(runtime: ServiceRuntime, event_type: type) -> EventProcessor:
    """The runtime's processor of ``event_type`` events."""
    return next(p for p in runtime.processors if p.subscription.event_type is event_type)


async def publish_outbox(runtime: ServiceRuntime) -> int:
    """Publish everything the runtime's outbox holds to Kafka; how many events."""
    total = 0
    while published := await runtime.relay.publish_pending():
        total += published
    return total


def publisher_headers(info: StackInfo) -> dict[str, str]:
    """``Authorization`` with the stack's publisher token (its services run with auth on)."""
    from driftline.stack.tokens import role_tokens

    path = info.auth_tokens_file
    token = role_tokens(path).get("publisher") if path and path.exists() else None
    return {"Authorization": f"Bearer {token}"} if token else {}
