"""Generate the configuration reference (``docs/configuration.md``) from the settings models.

Run ``python -m driftline.runtime.config_reference > docs/configuration.md``; a test fails
when the checked-in file is stale.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from driftline.runtime.services import SERVICE_NAMES
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


def _service_defaults() -> dict[str, BaseModel]:
    """Each service's own section (with its extra settings), from its settings class."""
    from driftline.runtime.app import load_definition

    sections: dict[str, BaseModel] = {}
    for name in SERVICE_NAMES:
        defaults = load_definition(name).settings_cls.model_construct()
        sections[name] = getattr(defaults, name)
    return sections


def render() -> str:
    """The whole Markdown page."""
    lines = [HEADER, "| variable | type | default | description |", "|---|---|---|---|"]
    # model_construct: defaults only, whatever this process's environment says.
    base = RuntimeSettings.model_construct()
    services = _service_defaults()
    for name in RuntimeSettings.model_fields:
        value = services.get(name, getattr(base, name))
        if not isinstance(value, BaseModel):
            lines += [
                f"| `{env}` | {kind} | {default} | {text} |"
                for env, kind, default, text in rows(base)
                if env == ENV_PREFIX + name.upper()
            ]
            continue
        prefix = f"{ENV_PREFIX}{name.upper()}__"
        lines += [
            f"| `{env}` | {kind} | {default} | {text} |"
            for env, kind, default, text in rows(value, prefix)
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
