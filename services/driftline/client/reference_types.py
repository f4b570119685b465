"""The types section of the client's API reference: the models the calls return, field by field."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from driftline.client.models import FeedbackAccepted, Predictions
from driftline.training.records import RunRecord, SubmissionStatus
from driftline.training.tracking.models import (
    ArtifactEntry,
    ComparedRuns,
    EndStatus,
    Experiment,
    MetricPoint,
    ParamValue,
    RunStatus,
    TrackedRun,
)
from driftline_contracts.values import Code, Name, Scalar, Sha256, Slug, Text, Uri

RETURNED: tuple[type[BaseModel], ...] = (
    TrackedRun, ArtifactEntry, MetricPoint, Experiment, RunRecord, ComparedRuns,
    Predictions, FeedbackAccepted, SubmissionStatus,
)  # fmt: skip
"""What the client's calls return; the models their fields hold are added after them."""

ALIASES: dict[str, Any] = {
    "ParamValue": ParamValue,
    "EndStatus": EndStatus,
    "RunStatus": RunStatus,
    "Scalar": Scalar,
    "Slug": Slug,
    "Name": Name,
    "Code": Code,
    "Text": Text,
    "Sha256": Sha256,
    "Uri": Uri,
}
"""Type aliases the signatures and fields name."""


def plain(tp: Any) -> str:
    """A type as a reader writes it: constraints (``Annotated``) and module paths left out."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        return plain(args[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(plain(arg) for arg in args)
    if origin is typing.Literal:
        return f"Literal[{', '.join(repr(arg) for arg in args)}]"
    if tp is type(None):
        return "None"
    if origin is not None:
        return f"{plain(origin)}[{', '.join(plain(arg) for arg in args)}]"
    return tp.__name__ if isinstance(tp, type) else str(tp)


def constraints(tp: Any) -> str:
    """An ``Annotated`` alias's limits (pattern, lengths), as ``; pattern ...``; else empty."""
    if typing.get_origin(tp) is not typing.Annotated:
        return ""
    limits = [
        f"{key} `{value}`"
        for meta in typing.get_args(tp)[1:]
        for key in ("pattern", "min_length", "max_length")
        if (value := getattr(meta, key, None)) is not None
    ]
    return f" ({', '.join(limits)})" if limits else ""


def _nested(tp: Any) -> Iterator[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        yield tp
    for arg in typing.get_args(tp):
        yield from _nested(arg)


def models(roots: tuple[type[BaseModel], ...] = RETURNED) -> list[type[BaseModel]]:
    """The returned models, then every model their fields hold (each once, first seen first)."""
    found: list[type[BaseModel]] = []
    queue = list(roots)
    while queue:
        model = queue.pop(0)
        if model not in found:
            found.append(model)
            for field in model.model_fields.values():
                queue += list(_nested(field.annotation))
    return found


def _written(model: type[BaseModel], field: str) -> str:
    """A field's annotation as written in its class (a string under postponed annotations)."""
    for klass in model.__mro__:
        written = inspect.get_annotations(klass).get(field)
        if written is not None:
            readable = isinstance(written, str) and "Annotated[" not in written
            return written if readable else plain(model.model_fields[field].annotation)
    return plain(model.model_fields[field].annotation)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def model_section(model: type[BaseModel]) -> list[str]:
    """A model's heading, where it lives, its summary, and a table of its fields."""
    summary = inspect.cleandoc(model.__doc__ or "").partition("\n\n")[0]
    lines = [f"### `{model.__name__}`", "", f"`{model.__module__}.{model.__name__}`: {summary}"]
    lines += ["", "| field | type | description |", "|---|---|---|"]
    for name, field in model.model_fields.items():
        kind = _cell(_written(model, name))
        lines.append(f"| `{name}` | `{kind}` | {_cell(field.description or '')} |")
    return [*lines, ""]


def type_sections() -> list[tuple[str, list[str]]]:
    """(name, Markdown lines) for each model, then one block for the aliases."""
    sections = [(model.__name__, model_section(model)) for model in models()]
    aliases = ["### Aliases", ""]
    aliases += [
        f"- `{name}` = `{plain(alias)}`{constraints(alias)}" for name, alias in ALIASES.items()
    ]
    return [*sections, ("Aliases", [*aliases, ""])]
