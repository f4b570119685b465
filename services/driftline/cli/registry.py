"""``driftline apply`` and ``driftline models``: apply model specs and browse the registry."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from driftline.cli.credentials import TOKEN_HELP, auth_headers
from driftline.cli.service_url import error_detail, service_url
from driftline_contracts.modelspec import ModelSpec

URL_ENV = "DRIFTLINE_REGISTRY_URL"
DEFAULT_URL = "http://127.0.0.1:8104"
USAGE_ERROR, SERVER_ERROR = 2, 1
_USER_ACTOR = re.compile(r"user:[A-Za-z0-9@._/-]{1,127}")

models_app = typer.Typer(help="Browse models, versions and aliases; approve.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


class RegistryError(Exception):
    """The registry answered with an error or could not be reached."""


class RegistryClient:
    """Blocking client of the registry HTTP API; pass ``transport`` to talk to a fake."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, transport=transport, timeout=30.0, headers=headers
        )

    def apply(self, spec: dict[str, Any], actor: str | None) -> dict[str, Any]:
        """POST a spec; the body says whether it was applied or unchanged."""
        headers = {"X-Driftline-Actor": actor} if actor else {}
        return self.send("POST", "/v1/specs", json=spec, headers=headers).json()

    def get(self, path: str) -> Any:
        """GET a registry path as JSON."""
        return self.send("GET", path).json()

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; errors become ``RegistryError`` with the server's detail."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise RegistryError(f"cannot reach the registry at {self.base_url}: {exc}") from exc
        if response.is_error:
            raise RegistryError(f"{response.status_code}: {error_detail(response)}")
        return response


def default_url(environ: Mapping[str, str] | None = None, home: Path | None = None) -> str:
    """``${URL_ENV}``, else the local stack's registry service, else the default port."""
    return service_url("registry", environ=environ, home=home)


def _fail(message: str, code: int) -> NoReturn:
    err_console.print(f"[red]error:[/] {message}", markup=True, highlight=False)
    raise typer.Exit(code)


def field_errors(exc: ValidationError) -> list[str]:
    """One line per invalid field: ``gates.0.metric: Field required``."""
    return [
        f"{'.'.join(str(p) for p in error['loc']) or '(spec)'}: {error['msg']}"
        for error in exc.errors()
    ]


def load_spec(path: Path) -> ModelSpec:
    """Read and validate a YAML spec; exits 2 with the invalid fields listed."""
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        _fail(f"cannot read {path}: {exc}", USAGE_ERROR)
    if not isinstance(raw, dict):
        _fail(
            f"{path} must hold a YAML mapping (model, dataset, target, task, trainer…)", USAGE_ERROR
        )
    try:
        return ModelSpec.model_validate(raw)
    except ValidationError as exc:
        _fail(
            f"{path} is not a valid model spec:\n  " + "\n  ".join(field_errors(exc)), USAGE_ERROR
        )


Url = Annotated[str | None, typer.Option(help=f"Registry URL. Default: ${URL_ENV}, the stack's.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Actor = Annotated[
    str | None, typer.Option(help="Who acts, user:NAME (only behind a gateway; a token names it).")
]
Token = Annotated[str | None, typer.Option(help=TOKEN_HELP, show_default=False)]


def _actor(actor: str | None) -> str | None:
    if actor is not None and not _USER_ACTOR.fullmatch(actor):
        _fail(f"--actor must look like user:NAME, not {actor!r}", USAGE_ERROR)
    return actor


def apply_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Model spec YAML.")],
    url: Url = None,
    actor: Actor = None,
    as_json: AsJson = False,
    token: Token = None,
) -> None:
    """Apply a model spec: validated here, stored by the registry if it changed, announced
    (an unchanged spec too: that retries its training run if the run failed)."""
    spec = load_spec(file)
    client = RegistryClient(url or default_url(), headers=auth_headers("publisher", token))
    try:
        body = client.apply(spec.model_dump(mode="json"), _actor(actor))
    except RegistryError as exc:
        _fail(str(exc), SERVER_ERROR)
    if as_json:
        typer.echo(json.dumps(body, indent=2))
        return
    state = "applied" if body["status"] == "applied" else (
        "unchanged (announced again: a failed training run is retried)")  # fmt: skip
    console.print(
        f"model [bold]{body['model']}[/] spec version [bold]{body['version']}[/] {state}\n"
        f"spec hash {body['spec_hash']}",
        highlight=False,
    )


def _call(path: str, url: str | None) -> Any:
    try:
        return RegistryClient(url or default_url()).get(path)
    except RegistryError as exc:
        _fail(str(exc), SERVER_ERROR)


def _show(data: Any, as_json: bool) -> bool:
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    return as_json


@models_app.command("ls")
def list_models(url: Url = None, as_json: AsJson = False) -> None:
    """List models: newest spec, versions and the champion."""
    rows = _call("/v1/models", url)
    if _show(rows, as_json):
        return
    table = Table("model", "spec", "versions", "latest", "champion")
    for row in rows:
        table.add_row(row["name"], str(row["spec_version"] or "-"), str(row["versions"]),
                      str(row["latest_version"] or "-"), str(row["champion"] or "-"))  # fmt: skip
    console.print(table)


@models_app.command("show")
def show_model(
    name: Annotated[str, typer.Argument(help="Model name.")],
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """One model: spec hash, approval policy, gates, aliases, rollbacks."""
    model = _call(f"/v1/models/{name}", url)
    if _show(model, as_json):
        return
    spec = (model.get("spec") or {}).get("spec") or {}
    aliases = ", ".join(f"{a['alias']}=v{a['version']}" for a in model["aliases"]) or "none"
    console.print(
        f"model [bold]{model['name']}[/]  versions {model['versions']}  aliases {aliases}\n"
        f"spec v{model['spec_version']} {model['spec_hash']}  approval "
        f"{spec.get('approval', '-')}  gates {json.dumps(spec.get('gates', []))}",
        highlight=False,
    )
    for rollback in model["rollbacks"]:
        console.print(f"rolled back: v{rollback['version']} canary {rollback['canary_id']} "
                      f"at {rollback['traffic_percent']}%", highlight=False)  # fmt: skip


@models_app.command("versions")
def list_versions(
    name: Annotated[str, typer.Argument(help="Model name.")],
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """List the versions of a model with metrics, status and lineage."""
    rows = _call(f"/v1/models/{name}/versions", url)
    if _show(rows, as_json):
        return
    table = Table("version", "status", "metrics", "run", "dataset", "trainer", "failed gates")
    for row in rows:
        metrics = ", ".join(f"{k}={v:.4g}" for k, v in row["metrics"].items())
        failed = ", ".join(r["code"] for r in row["reasons"]) or "-"
        dataset = f"{row['dataset']['name']}@{row['dataset']['sha256'][:12]}"
        table.add_row(str(row["version"]), row["status"], metrics, row["run_id"], dataset,
                      row["trainer"], failed)  # fmt: skip
    console.print(table)


def _decide(
    verb: str, name: str, version: int, actor: str | None, comment: str | None,
    url: str | None, token: str | None, body: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    # The token says who approves; a role header would be forged (the services drop it).
    headers = {"X-Driftline-Actor": actor} if _actor(actor) else {}
    client = RegistryClient(url or default_url(), headers=auth_headers("approver", token))
    try:
        body = client.send(
            "POST", f"/v1/models/{name}/versions/{version}/{verb}",
            headers=headers, json=body or {"comment": comment},
        ).json()  # fmt: skip
    except RegistryError as exc:
        _fail(str(exc), SERVER_ERROR)
    by = body.get("decided_by", actor) if isinstance(body, dict) else actor
    done = "overridden: approved" if verb == "override" else f"{verb}d"
    console.print(f"{name} v{version} {done}" + (f" by {by}" if by else ""), highlight=False)


Name = Annotated[str, typer.Argument(help="Model name.")]
Version = Annotated[int, typer.Argument(min=1, help="Version number.")]
Approver = Annotated[
    str | None, typer.Option(help="Approver, user:NAME, only behind a gateway (a token names it).")
]
Comment = Annotated[str | None, typer.Option(help="Why.")]


@models_app.command("approve")
def approve_version(
    name: Name, version: Version, actor: Approver = None, comment: Comment = None,
    url: Url = None, token: Token = None,
) -> None:  # fmt: skip
    """Approve a pending version (manual approval; you must not be its trainer)."""
    _decide("approve", name, version, actor, comment, url, token)


@models_app.command("reject")
def reject_version(
    name: Name, version: Version, actor: Approver = None, comment: Comment = None,
    url: Url = None, token: Token = None,
) -> None:  # fmt: skip
    """Reject a pending version."""
    _decide("reject", name, version, actor, comment, url, token)


@models_app.command("override")
def override_rejection(
    name: Name, version: Version,
    reason: Annotated[str, typer.Option(help="Why the gates are wrong here (kept and audited).")],
    actor: Approver = None, url: Url = None, token: Token = None,
) -> None:  # fmt: skip
    """Approve a version its gates rejected, with a reason (you must not be its trainer)."""
    _decide("override", name, version, actor, None, url, token, {"reason": reason})


@models_app.command("promote")
def promote_version(
    name: Name, version: Version,
    reason: Annotated[str, typer.Option(help="Why this version goes back (kept and audited).")],
    deployment_url: Annotated[
        str | None, typer.Option(help="Deployment URL. Default: the stack's.")
    ] = None,
    token: Token = None,
) -> None:  # fmt: skip
    """Roll back or re-promote: put a version that served before back in production now."""
    url = deployment_url or service_url("deployment")
    client = RegistryClient(url, headers=auth_headers("approver", token))
    try:
        body = client.send(
            "POST", f"/v1/models/{name}/versions/{version}/promote", json={"reason": reason}
        ).json()
    except RegistryError as exc:
        _fail(str(exc).replace("the registry", "deployment"), SERVER_ERROR)
    previous = body.get("previous")
    console.print(
        f"{name} v{version} is serving (was v{previous}), promoted by {body.get('promoted_by')}",
        highlight=False,
    )
