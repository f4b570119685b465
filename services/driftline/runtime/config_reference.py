"""Generate the configuration reference (``docs/configuration.md``) from the settings models.

Run ``python -m driftline.runtime.config_reference > docs/configuration.md``; a test fails
when the checked-in file is stale.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from driftline.runtime.settings import ENV_PREFIX, RuntimeSettings

HEADER = """# Configuration reference

Generated from `driftline.runtime.settings` by
`python -m driftline.runtime.config_reference > docs/configuration.md`; do not edit by hand.

Every setting is an environment variable with the `DRIFTLINE_` prefix; nested sections use
`__`. Precedence: process environment, then `$DRIFTLINE_HOME/stack.env` (written by
`driftline stack up`), then the defaults below.
"""


def _shown(value: object) -> str:
    if isinstance(value, SecretStr):
        return "(secret)"
    return f"`{value}`" if value not in (None, "", []) else "—"


def _type_name(info: FieldInfo) -> str:
    text = str(info.annotation).replace("typing.", "").replace("<class '", "").replace("'>", "")
    return text.replace("pydantic.types.", "").replace("|", "\\|")


def rows(defaults: BaseModel, prefix: str = ENV_PREFIX) -> Iterator[tuple[str, str, str, str]]:
    """(env var, type, default, description) for every leaf setting under ``defaults``."""
    for name, info in type(defaults).model_fields.items():
        env = f"{prefix}{name.upper()}"
        value = getattr(defaults, name)
        if isinstance(value, BaseModel):
            yield from rows(value, env + "__")
            continue
        yield env, _type_name(info), _shown(value), (info.description or "").replace("\n", " ")


def render() -> str:
    """The whole Markdown page."""
    lines = [HEADER, "| variable | type | default | description |", "|---|---|---|---|"]
    # model_construct: defaults only, whatever this process's environment says.
    lines += [
        f"| `{env}` | {kind} | {default} | {text} |"
        for env, kind, default, text in rows(RuntimeSettings.model_construct())
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
