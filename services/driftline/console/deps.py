"""What the console's pages are built from, assembled once per process."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, select_autoescape

from driftline.console.ports import Artifacts, ReadModel, Upstream
from driftline.console.settings import ConsoleSection
from driftline.console.web.session import Verifier
from driftline.console.web.views import pretty, short_type


@dataclass(frozen=True)
class ConsoleDeps:
    """The read model, the other services, the templates and how callers sign in."""

    reader: ReadModel
    upstream: Upstream
    templates: Environment
    section: ConsoleSection
    sign_in_required: bool
    """bearer auth: pages need a verified token (header or cookie); else they are open."""
    verify: Verifier | None = None
    artifacts: Artifacts | None = None
    """Published artifacts (dataset profiles); None: profiles are not drawn."""


def build_templates() -> Environment:
    """The page templates shipped in the package, HTML-escaped by default."""
    env = Environment(
        loader=PackageLoader("driftline.console", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["short_type"] = short_type
    env.filters["pretty"] = pretty
    env.filters["num"] = lambda v: (
        f"{v:.4g}" if isinstance(v, int | float) else ("—" if v is None else v)
    )
    env.filters["when"] = lambda t: t.strftime("%Y-%m-%d %H:%M:%S") if t else "—"
    return env
