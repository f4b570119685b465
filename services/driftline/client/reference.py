"""What the client's API reference documents, read with ``inspect``, and the checks on it.

``driftline.client.reference_markdown`` renders it as ``docs/client-api.md``; the tests use
``unassigned``, ``missing_docstrings`` and ``mirror_gaps`` to keep the page complete.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from driftline.client import AsyncClient, AsyncRun, Client, ClientError, Run
from driftline.client.submitting import SubmissionTimeoutError

DOCUMENTED: dict[str, type] = {
    "Client": Client,
    "Run": Run,
    "ClientError": ClientError,
    "SubmissionTimeoutError": SubmissionTimeoutError,
}
"""The objects the page documents, by the name it shows them under."""

ASYNC_TWINS: tuple[tuple[type, type], ...] = ((Client, AsyncClient), (Run, AsyncRun))
"""Each sync class and its async twin: the same calls as coroutines."""

ASYNC_NAMES: dict[str, str] = {"close": "aclose"}
"""Sync methods whose twin is named otherwise (httpx's convention)."""

CONSTRUCTED = frozenset({"Client"})
"""Classes a user builds: their constructor's signature is shown."""


@dataclass(frozen=True)
class Topic:
    """A section of the page: a title, a sentence on it, and the entries in it, in order."""

    title: str
    about: str
    names: tuple[str, ...]


TOPICS: tuple[Topic, ...] = (
    Topic("Connecting", "Building a client, and the one call the others are made of.",
          ("Client", "Client.send", "Client.close")),
    Topic("Tracking runs", "Logging experiments from a notebook, and reading them back.",
          ("Client.start_run", "Run", "Run.run_id", "Run.log_params", "Run.log_metrics",
           "Run.log_metric", "Run.set_tags", "Run.log_artifact", "Run.start_run", "Run.end",
           "Client.tracked_runs", "Client.tracked_run", "Client.metric_history",
           "Client.experiments")),
    Topic("Training runs", "The runs the training service trains itself from a model spec.",
          ("Client.runs", "Client.run", "Client.compare")),
    Topic("Datasets", "Accepted dataset versions, as pandas frames.", ("Client.load_dataset",)),
    Topic("Models and versions", "The registry: models, versions, lineage and gates.",
          ("Client.models", "Client.versions", "Client.version")),
    Topic("Scoring, feedback and drift", "The serving and monitoring services.",
          ("Client.predict", "Client.send_feedback", "Client.drift_report")),
    Topic("Submitting models", "Models trained elsewhere, as candidate versions.",
          ("Client.submit_model", "Client.submit_model_file", "Run.submit_model",
           "Client.submission", "Client.wait_for_submission")),
    Topic("Errors", "What the calls raise.", ("ClientError", "SubmissionTimeoutError")),
)  # fmt: skip


def public_members(cls: type) -> dict[str, Any]:
    """A class's own public methods and properties, in source order."""
    return {
        name: value
        for name, value in vars(cls).items()
        if not name.startswith("_") and (inspect.isfunction(value) or isinstance(value, property))
    }


def documented_names() -> list[str]:
    """Every entry the page must have: each documented class and its public members."""
    return [
        entry
        for name, cls in DOCUMENTED.items()
        for entry in (name, *(f"{name}.{member}" for member in public_members(cls)))
    ]


def resolve(name: str) -> Any:
    """The class, function or property an entry name (``Client.start_run``) stands for."""
    owner, _, member = name.partition(".")
    cls = DOCUMENTED[owner]
    return vars(cls)[member] if member else cls


def unassigned() -> list[str]:
    """Entries that no topic lists (they would land under "Other")."""
    placed = {name for topic in TOPICS for name in topic.names}
    return [name for name in documented_names() if name not in placed]


def summary_and_body(obj: Any) -> tuple[str, str]:
    """A docstring's first paragraph (the summary, one line) and the rest."""
    text = inspect.cleandoc(obj.__doc__ or "")
    summary, _, body = text.partition("\n\n")
    return summary, body.strip()


def _objects(classes: Iterable[type]) -> Iterator[tuple[str, Any]]:
    for cls in classes:
        yield cls.__name__, cls
        for member, value in public_members(cls).items():
            yield f"{cls.__name__}.{member}", value


def missing_docstrings(classes: Iterable[type] | None = None) -> list[str]:
    """Public classes and members with no docstring, or a summary longer than one line."""
    if classes is None:
        classes = [*DOCUMENTED.values(), *(twin for _, twin in ASYNC_TWINS)]
    return [
        name
        for name, obj in _objects(classes)
        if not (summary := summary_and_body(obj)[0]) or "\n" in summary
    ]


def _shape(func: Callable[..., Any]) -> list[tuple[str, Any, Any, str]]:
    """Parameters as compared across twins: name, kind, default, annotation (``Async`` cut)."""
    return [
        (p.name, p.kind, p.default, str(p.annotation).replace("Async", ""))
        for p in inspect.signature(func).parameters.values()
    ]


def _twin_gap(owner: str, twin: type, name: str, value: Any) -> str | None:
    """What is wrong with the async twin of ``owner.name``, if anything."""
    twin_name = ASYNC_NAMES.get(name, name)
    other = vars(twin).get(twin_name)
    where = f"{twin.__name__}.{twin_name}"
    if other is None:
        return f"{where} is missing (twin of {owner}.{name})"
    if isinstance(value, property):
        return None if isinstance(other, property) else f"{where} is not a property"
    if not inspect.iscoroutinefunction(other):
        return f"{where} is not a coroutine function"
    if _shape(value) != _shape(other):
        return f"{where} takes other parameters than {owner}.{name}"
    return None


def mirror_gaps(pairs: Iterable[tuple[type, type]] = ASYNC_TWINS) -> list[str]:
    """Where the async classes do not mirror the sync ones (missing, extra, other parameters)."""
    gaps: list[str] = []
    for sync, twin in pairs:
        owner, members = sync.__name__, public_members(sync)
        built = owner in CONSTRUCTED
        if built and _shape(vars(sync)["__init__"]) != _shape(vars(twin)["__init__"]):
            gaps.append(f"{twin.__name__}() takes other parameters than {owner}()")
        gaps += [g for n, v in members.items() if (g := _twin_gap(owner, twin, n, v))]
        mirrored = {ASYNC_NAMES.get(name, name) for name in members}
        gaps += [
            f"{twin.__name__}.{name} has no sync twin in {owner}"
            for name in public_members(twin)
            if name not in mirrored
        ]
    return gaps


def without_twin(pairs: Iterable[tuple[type, type]] = ASYNC_TWINS) -> list[str]:
    """Sync entries (``Client.x``) whose async class has no method of that name."""
    return [
        f"{sync.__name__}.{name}"
        for sync, twin in pairs
        for name in public_members(sync)
        if ASYNC_NAMES.get(name, name) not in vars(twin)
    ]
