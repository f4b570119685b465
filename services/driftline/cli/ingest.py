"""``driftline ingest`` and ``driftline datasets``: upload files to and browse the catalog."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from driftline.cli.credentials import TOKEN_HELP, auth_headers
from driftline.cli.service_url import error_detail, service_url

URL_ENV = "DRIFTLINE_INGEST_URL"
DEFAULT_URL = "http://127.0.0.1:8101"
CONTENT_TYPES = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
SUFFIX_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
PROGRESS_FROM_BYTES = 8 * 1024 * 1024
CHUNK = 1 << 20
USAGE_ERROR, SERVER_ERROR = 2, 1
_USER_ACTOR = re.compile(r"user:[A-Za-z0-9@._/-]{1,127}")

datasets_app = typer.Typer(help="Browse the dataset catalog.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


class IngestError(Exception):
    """The ingest service answered with an error or could not be reached."""


class IngestClient:
    """Blocking client of the ingest HTTP API; pass ``transport`` to talk to a fake."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        timeout = httpx.Timeout(30.0, read=600.0)  # the server stores the file before answering
        self._http = httpx.Client(
            base_url=self.base_url, transport=transport, timeout=timeout, headers=headers
        )

    def upload(
        self, name: str, path: Path, file_format: str, actor: str | None,
        on_chunk: Callable[[int], None] = lambda _: None,
    ) -> tuple[dict[str, Any], bool]:  # fmt: skip
        """Stream ``path`` to the service; returns the catalogued upload and whether it is new."""
        headers = {"Content-Type": CONTENT_TYPES[file_format],
                   "Content-Length": str(path.stat().st_size)}  # fmt: skip
        if actor:
            headers["X-Driftline-Actor"] = actor
        body = _chunks(path, on_chunk)
        response = self._send("POST", f"/v1/datasets/{name}", content=body, headers=headers)
        return response.json(), response.status_code == 201

    def datasets(self) -> list[dict[str, Any]]:
        """Every dataset with its upload and accepted-version counts."""
        return self._send("GET", "/v1/datasets").json()

    def versions(self, name: str) -> list[dict[str, Any]]:
        """Every catalogued upload of ``name`` with its accepted version, oldest first."""
        return self._send("GET", f"/v1/datasets/{name}/versions").json()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise IngestError(f"cannot reach ingest at {self.base_url}: {exc}") from exc
        if response.is_error:
            raise IngestError(f"{response.status_code}: {error_detail(response)}")
        return response


def _chunks(path: Path, on_chunk: Callable[[int], None]) -> Iterator[bytes]:
    with path.open("rb") as src:
        while chunk := src.read(CHUNK):
            on_chunk(len(chunk))
            yield chunk


def default_url(environ: Mapping[str, str] | None = None, home: Path | None = None) -> str:
    """``${URL_ENV}``, else the local stack's ingest service, else the default port."""
    return service_url("ingest", environ=environ, home=home)


def _fail(message: str, code: int) -> NoReturn:
    err_console.print(f"[red]error:[/] {message}", markup=True, highlight=False)
    raise typer.Exit(code)


def _format_of(path: Path, given: str | None) -> str:
    if given is not None:
        if given not in CONTENT_TYPES:
            _fail(f"--format must be csv or parquet, not {given!r}", USAGE_ERROR)
        return given
    found = SUFFIX_FORMATS.get(path.suffix.lower())
    if found is None:
        _fail(f"cannot tell the format of {path.name}: pass --format csv|parquet", USAGE_ERROR)
    return found


Url = Annotated[str | None, typer.Option(help=f"Ingest URL. Default: ${URL_ENV}, the stack's.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def ingest_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or Parquet.")],
    dataset: Annotated[str, typer.Option(help="Dataset name (slug).")],
    file_format: Annotated[str | None, typer.Option("--format", help="csv or parquet.")] = None,
    url: Url = None,
    actor: Annotated[
        str | None, typer.Option(help="Uploader, user:NAME (behind a gateway; a token names it).")
    ] = None,
    as_json: AsJson = False,
    token: Annotated[str | None, typer.Option(help=TOKEN_HELP, show_default=False)] = None,
) -> None:
    """Upload a CSV or Parquet file (the same bytes twice: one upload); validation versions it."""
    fmt = _format_of(file, file_format)
    if actor is not None and not _USER_ACTOR.fullmatch(actor):
        _fail(f"--actor must look like user:NAME, not {actor!r}", USAGE_ERROR)
    client = IngestClient(url or default_url(), headers=auth_headers("publisher", token))
    size = file.stat().st_size
    try:
        if size < PROGRESS_FROM_BYTES:
            body, new = client.upload(dataset, file, fmt, actor)
        else:
            columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn())
            with Progress(*columns, console=err_console, transient=True) as bar:
                task = bar.add_task("upload", total=size)
                body, new = client.upload(dataset, file, fmt, actor, lambda n: bar.advance(task, n))
    except IngestError as exc:
        _fail(str(exc), SERVER_ERROR)
    if as_json:
        typer.echo(json.dumps(body, indent=2))
        return
    state = "new" if new else "existing"
    console.print(
        f"dataset [bold]{body['name']}[/] upload [bold]{body['upload']}[/] ({state}), "
        f"{_version_text(body)}\n"
        f"sha256 {body['sha256']}  rows {body['rows']}  size {body['size_bytes']} bytes\n"
        f"uri {body['uri']}",
        highlight=False,
    )


def _version_text(body: Mapping[str, Any]) -> str:
    if body.get("version") is not None:
        return f"version [bold]{body['version']}[/]"
    if body.get("validation_status") == "rejected":
        return "rejected by validation (no version)"
    return "version assigned when validation accepts it"


@datasets_app.command("ls")
def list_datasets(url: Url = None, as_json: AsJson = False) -> None:
    """List datasets: uploads, accepted versions and the newest version."""
    try:
        rows = IngestClient(url or default_url()).datasets()
    except IngestError as exc:
        _fail(str(exc), SERVER_ERROR)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("dataset", "uploads", "versions", "latest version")
    for row in rows:
        latest = row["latest_version"]
        table.add_row(row["name"], str(row["uploads"]), str(row["versions"]),
                      "-" if latest is None else str(latest))  # fmt: skip
    console.print(table)


@datasets_app.command("versions")
def list_versions(
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """List every upload of one dataset and the version validation gave it (- if none)."""
    try:
        rows = IngestClient(url or default_url()).versions(name)
    except IngestError as exc:
        _fail(str(exc), SERVER_ERROR)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    console.print(versions_table(rows))


def versions_table(rows: list[dict[str, Any]]) -> Table:
    """The table ``driftline datasets versions`` prints: one row per upload, its version or -."""
    table = Table("upload", "version", "sha256", "rows", "bytes", "by", "validation", "created")
    for row in rows:
        version = "-" if row.get("version") is None else str(row["version"])
        table.add_row(
            str(row["upload"]), version, row["sha256"][:12], str(row["rows"]),
            str(row["size_bytes"]),
            row.get("uploaded_by") or row["actor"], row.get("validation_status") or "-",
            str(row.get("created_at") or ""),
        )  # fmt: skip
    return table
