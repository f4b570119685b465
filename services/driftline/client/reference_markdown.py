"""Render the client's API reference (``docs/client-api.md``) from its docstrings.

``driftline docs client-api --write docs/client-api.md`` (or
``python -m driftline.client.reference_markdown > docs/client-api.md``); a test fails when the
checked-in file is stale.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from driftline.client.reference import (
    CONSTRUCTED,
    TOPICS,
    Topic,
    resolve,
    summary_and_body,
    unassigned,
    without_twin,
)
from driftline.client.reference_types import type_sections

HEADER = """# Client API reference

Generated from the docstrings of `driftline.client` by
`driftline docs client-api --write docs/client-api.md`; do not edit by hand. The guide is
[From the notebook](notebook.md).

```python
from driftline.client import AsyncClient, AsyncRun, Client, ClientError, Run
```

**Async.** `AsyncClient` and `AsyncRun` mirror every method of `Client` and `Run` below with
the same parameters, as coroutines: `await client.models()`,
`async with await client.start_run(...) as run:`, `await run.log_params(...)`. `close` is
`aclose`, and `with` is `async with`. Type annotations are shown as written in the source.
"""

WRAP_AT = 88


def anchor(title: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def _annotation(value: Any) -> str:
    return value if isinstance(value, str) else inspect.formatannotation(value)


def _parameter(p: inspect.Parameter) -> str:
    stars = "*" if p.kind == p.VAR_POSITIONAL else "**" if p.kind == p.VAR_KEYWORD else ""
    text = stars + p.name
    if p.annotation is not p.empty:
        text += f": {_annotation(p.annotation)}"
    if p.default is not p.empty:
        default = f'"{p.default}"' if isinstance(p.default, str) else repr(p.default)
        text += f" = {default}" if p.annotation is not p.empty else f"={default}"
    return text


def signature(name: str, func: Any) -> str:
    """``name(params) -> returns`` with ``self`` left out; one parameter a line when long."""
    found = inspect.signature(func)
    parts: list[str] = []
    starred = False
    for p in list(found.parameters.values())[1:]:
        if p.kind == p.KEYWORD_ONLY and not starred:
            parts.append("*")
        starred = starred or p.kind in (p.KEYWORD_ONLY, p.VAR_POSITIONAL)
        parts.append(_parameter(p))
    returns = found.return_annotation
    tail = "" if returns is found.empty or name[0].isupper() else f" -> {_annotation(returns)}"
    prefix = "async " if inspect.iscoroutinefunction(func) else ""
    line = f"{prefix}{name}({', '.join(parts)}){tail}"
    if len(line) <= WRAP_AT:
        return line
    return f"{prefix}{name}(\n" + "".join(f"    {part},\n" for part in parts) + f"){tail}"


def _heading_code(obj: Any, short: str) -> str:
    if isinstance(obj, property) and obj.fget is not None:
        return f"{short}: {_annotation(inspect.signature(obj.fget).return_annotation)}"
    if not inspect.isclass(obj):
        return signature(short, obj)
    if obj.__name__ in CONSTRUCTED:
        return signature(obj.__name__, obj.__init__)
    bases = [b.__name__ for b in obj.__bases__ if b is not object]
    return f"class {obj.__name__}" + (f"({', '.join(bases)})" if bases else "")


def entry(name: str, sync_only: frozenset[str] = frozenset()) -> list[str]:
    """One entry: its heading, signature, summary and body."""
    obj = resolve(name)
    summary, body = summary_and_body(obj)
    note = " *(property)*" if isinstance(obj, property) else ""
    note += " *(sync only: `AsyncClient` / `AsyncRun` lack it)*" if name in sync_only else ""
    lines = [f"### `{name}`", "", "```python", _heading_code(obj, name.rpartition(".")[2])]
    lines += ["```", "", f"{summary}{note}"]
    return [*lines, "", body, ""] if body else [*lines, ""]


def _topics() -> list[Topic]:
    extra = unassigned()
    other = Topic("Other", "Not placed under a topic yet.", tuple(extra))
    return [*TOPICS, other] if extra else list(TOPICS)


def render() -> str:
    """The whole Markdown page."""
    topics, types = _topics(), type_sections()
    lines = [HEADER, "## Index", ""]
    for topic in topics:
        links = ", ".join(f"[`{n}`](#{anchor(n)})" for n in topic.names)
        lines.append(f"- [{topic.title}](#{anchor(topic.title)}): {links}")
    type_links = ", ".join(f"[`{n}`](#{anchor(n)})" for n, _ in types)
    lines += [f"- [Types](#types): {type_links}", ""]
    sync_only = frozenset(without_twin())
    for topic in topics:
        lines += [f"## {topic.title}", "", topic.about, ""]
        for name in topic.names:
            lines += entry(name, sync_only)
    lines += ["## Types", "", "What the calls return, and the aliases their signatures use.", ""]
    for _, section in types:
        lines += section
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    print(render(), end="")
