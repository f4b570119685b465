"""``driftline publish``: send a DataArrived (or any catalog event) from a shell or a pipeline."""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import json
import os
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError

from driftline_contracts.catalog import EVENT_CLASSES
from driftline_contracts.envelope import Envelope, new_envelope
from driftline_contracts.events import DataArrived, Event
from driftline_contracts.publish import Publisher

app = typer.Typer(help="Publish Driftline events to Kafka.", no_args_is_help=True)

BOOTSTRAP_ENV = "DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS"
USAGE_ERROR = 2
# Payload locations that came from a command-line option, for error messages.
OPTION_OF = {
    "dataset.name": "--dataset",
    "dataset.uri": "--uri",
    "dataset.sha256": "--sha256",
    "dataset.format": "--format",
    "dataset.version": "--version",
    "dataset.rows": "--rows",
    "pipeline_run": "--pipeline-run",
}

Source = Annotated[str, typer.Option(help="CloudEvents source, e.g. pipeline/nightly-etl.")]
Actor = Annotated[
    str | None, typer.Option(help="Who acts, e.g. pipeline:nightly-etl. Default: user:<login>.")
]
Bootstrap = Annotated[
    str | None,
    typer.Option(
        "--bootstrap-servers", help=f"host:port list. Default: ${BOOTSTRAP_ENV}, then settings."
    ),
]
Correlation = Annotated[str | None, typer.Option(help="Correlation id to join an existing run.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print envelope and event as JSON.")]
DryRun = Annotated[bool, typer.Option(help="Validate and print, do not send.")]


def _fail(message: str, code: int = USAGE_ERROR) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _explain(exc: ValidationError, option_of: dict[str, str]) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False)[:5]:
        location = ".".join(str(p) for p in error["loc"])
        parts.append(f"{option_of.get(location, location or 'value')}: {error['msg']}")
    return "; ".join(parts)


def _local_file(uri: str) -> Path | None:
    if uri.startswith("file://"):
        return Path(uri.removeprefix("file://"))
    return None if "://" in uri else Path(uri)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _kafka_config(bootstrap_servers: str | None) -> dict[str, Any]:
    """aiokafka producer kwargs: option, then environment, then the runtime settings."""
    from driftline.runtime.kafka_config import aiokafka_kwargs
    from driftline.runtime.settings import RuntimeSettings

    kafka = RuntimeSettings.load().kafka
    config = aiokafka_kwargs(kafka)
    config["bootstrap_servers"] = (
        bootstrap_servers or os.environ.get(BOOTSTRAP_ENV) or kafka.bootstrap_servers
    )
    config["enable_idempotence"] = kafka.idempotent_producer
    return config


async def _send(event: Event, env: Envelope, config: dict[str, Any]) -> None:
    async with Publisher(source=env.source, actor=env.actor, **config) as publisher:
        await publisher.send(event, env)


def _emit(
    event: Event,
    *,
    source: str,
    actor: str | None,
    bootstrap_servers: str | None,
    correlation_id: str | None,
    as_json: bool,
    dry_run: bool,
) -> None:
    try:
        env = new_envelope(
            event,
            source=source,
            actor=actor or f"user:{getpass.getuser()}",
            correlation_id=correlation_id,
        )
    except ValidationError as exc:
        _fail(
            _explain(
                exc, {"source": "--source", "actor": "--actor", "correlationid": "--correlation-id"}
            )
        )
    if not dry_run:
        from aiokafka.errors import KafkaError

        config = _kafka_config(bootstrap_servers)
        try:
            asyncio.run(_send(event, env, config))
        except (KafkaError, OSError) as exc:
            _fail(f"could not publish to {config['bootstrap_servers']}: {exc!r}", code=1)
    if as_json:
        typer.echo(
            json.dumps(
                {"envelope": env.model_dump(mode="json"), "data": event.model_dump(mode="json")},
                indent=2,
            )
        )
    else:
        verb = "validated (dry run)" if dry_run else "published"
        typer.echo(
            f"{verb} {env.type} id={env.id} subject={env.subject} "
            f"topic={event.topic} correlationid={env.correlationid}"
        )


@app.command("data-arrived")
def data_arrived(
    dataset: Annotated[str, typer.Option(help="Dataset name (slug).")],
    uri: Annotated[str, typer.Option(help="Object URI, e.g. s3://bucket/key; or a local path.")],
    sha256: Annotated[
        str | None,
        typer.Option(help="SHA-256 of the object (64 hex). Computed for local files if omitted."),
    ] = None,
    file_format: Annotated[
        str | None, typer.Option("--format", help="csv or parquet. Default: from the URI's suffix.")
    ] = None,
    version: Annotated[
        int | None, typer.Option(help="Version number, if the pipeline has one.")
    ] = None,
    rows: Annotated[int | None, typer.Option(help="Row count, if known.")] = None,
    pipeline_run: Annotated[str | None, typer.Option(help="The pipeline's run id.")] = None,
    source: Source = "pipeline/cli",
    actor: Actor = None,
    bootstrap_servers: Bootstrap = None,
    correlation_id: Correlation = None,
    as_json: AsJson = False,
    dry_run: DryRun = False,
) -> None:
    """Announce a new dataset object: validation picks it up."""
    local = _local_file(uri)
    if local is not None:
        if not local.is_file():
            _fail(f"--uri: no such file {local}")
        uri, size = local.resolve().as_uri(), local.stat().st_size
        sha256 = sha256 or _sha256_of(local)
    else:
        size = None
    if sha256 is None:
        _fail("--sha256 is required for remote URIs (64 lowercase hex characters)")
    suffix = uri.rsplit(".", 1)[-1].lower()
    file_format = file_format or (suffix if suffix in ("csv", "parquet") else None)
    if file_format is None:
        _fail("--format: cannot tell from the URI; pass csv or parquet")
    ref = {
        "name": dataset,
        "uri": uri,
        "sha256": sha256.lower() if len(sha256) == 64 else sha256,
        "format": file_format,
        "version": version,
        "rows": rows,
        "size_bytes": size,
    }
    try:
        event = DataArrived(dataset=ref, pipeline_run=pipeline_run)
    except ValidationError as exc:
        _fail(_explain(exc, OPTION_OF))
    _emit(
        event,
        source=source,
        actor=actor,
        bootstrap_servers=bootstrap_servers,
        correlation_id=correlation_id,
        as_json=as_json,
        dry_run=dry_run,
    )


@app.command("event")
def any_event(
    ce_type: Annotated[
        str, typer.Option("--type", help="Event type, e.g. io.driftline.data.arrived.v1.")
    ],
    data_file: Annotated[Path, typer.Option(help="JSON file with the event; '-' for stdin.")],
    source: Source = "pipeline/cli",
    actor: Actor = None,
    bootstrap_servers: Bootstrap = None,
    correlation_id: Correlation = None,
    as_json: AsJson = False,
    dry_run: DryRun = False,
) -> None:
    """Publish any catalog event from a JSON document."""
    cls = EVENT_CLASSES.get(ce_type)
    if cls is None:
        _fail(f"--type: unknown event type {ce_type!r}; known: {', '.join(EVENT_CLASSES)}")
    try:
        text = (
            typer.get_text_stream("stdin").read()
            if str(data_file) == "-"
            else data_file.read_text()
        )
    except OSError as exc:
        _fail(f"--data-file: cannot read {data_file}: {exc.strerror}")
    try:
        event = cls.model_validate_json(text)
    except ValidationError as exc:
        _fail(f"--data-file: {_explain(exc, {})}")
    _emit(
        event,
        source=source,
        actor=actor,
        bootstrap_servers=bootstrap_servers,
        correlation_id=correlation_id,
        as_json=as_json,
        dry_run=dry_run,
    )
