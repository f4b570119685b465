"""AsyncAPI 3.0 documents of the services, built from what each one subscribes to and sends.

Receive operations come from a service's subscriptions (the handlers it really runs); send
operations from the catalog's ``producer`` of each event; payloads are the contracts' own
JSON Schemas, so the document and ``contracts/schemas`` cannot disagree. Generated with
``driftline docs asyncapi``; checked in under ``docs/asyncapi/`` and checked by the tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from driftline.runtime.consumer import Subscription
from driftline_contracts.catalog import EVENTS
from driftline_contracts.events import Event
from driftline_contracts.schema import envelope_schema, event_schema
from driftline_contracts.topics import AUDIT

Document = dict[str, Any]


def sends(service: str) -> list[type[Event]]:
    """Events ``service`` produces: its name is a word of the event's ``producer``."""
    return [e for e in EVENTS if service in re.findall(r"[a-z]+", e.producer)]


def receives(subscriptions: Sequence[Subscription[Any]]) -> list[tuple[str, list[type[Event]]]]:
    """(topic, events) per subscription; a topic-wide one (``object``) takes every event."""
    return [
        (s.source_topic, list(EVENTS) if s.event_type is object else [s.event_type])
        for s in subscriptions
    ]


def _message(cls: type[Event]) -> Document:
    payload = {k: v for k, v in event_schema(cls).items() if k not in ("$schema", "$id")}
    return {
        "name": cls.__name__,
        "title": cls.__name__,
        "summary": (cls.__doc__ or "").strip().splitlines()[0],
        "contentType": "application/json",
        "headers": {"$ref": "#/components/schemas/CloudEventsHeaders"},
        "payload": payload,
        "bindings": {"kafka": {"key": {"type": "string", "description": f"`{cls.key_path}`"}}},
        "x-ce-type": cls.ce_type,
    }


def _headers() -> Document:
    envelope = envelope_schema()
    names = envelope["x-driftline"]["headers"]
    return {
        "type": "object",
        "description": "CloudEvents 1.0 Kafka binding, binary mode: attributes as headers.",
        "properties": {
            header: envelope["properties"].get(attribute, {"type": "string"})
            for header, attribute in names.items()
        },
    }


def asyncapi_document(service: str, subscriptions: Sequence[Subscription[Any]]) -> Document:
    """The AsyncAPI 3.0 document of one service."""
    channels: Document = {}
    messages: Document = {}
    operations: Document = {}

    def channel(topic: str, events: list[type[Event]]) -> Document:
        entry = channels.setdefault(topic, {"address": topic, "messages": {}})
        for cls in events:
            messages[cls.__name__] = _message(cls)
            entry["messages"][cls.__name__] = {"$ref": f"#/components/messages/{cls.__name__}"}
        return {"$ref": f"#/channels/{_pointer(topic)}"}

    def refs(topic: str, events: list[type[Event]]) -> list[Document]:
        return [{"$ref": f"#/channels/{_pointer(topic)}/messages/{e.__name__}"} for e in events]

    for subscription, (topic, events) in zip(
        subscriptions, receives(subscriptions), strict=True
    ):
        operations[subscription.name] = {
            "action": "receive",
            "channel": channel(topic, events),
            "messages": refs(topic, events),
        }
    for cls in sends(service):
        operations[f"send_{cls.__name__}"] = {
            "action": "send",
            "channel": channel(cls.topic, [cls]),
            "messages": refs(cls.topic, [cls]),
            "description": f"Also appended to `{AUDIT}` by the outbox relay.",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": f"Driftline {service}",
            "version": "1",
            "description": f"Kafka events the {service} service receives and sends.",
        },
        "defaultContentType": "application/json",
        "channels": dict(sorted(channels.items())),
        "operations": operations,
        "components": {
            "messages": dict(sorted(messages.items())),
            "schemas": {"CloudEventsHeaders": _headers()},
        },
    }


def _pointer(topic: str) -> str:
    """A JSON pointer segment for a channel key (``/`` and ``~`` escaped)."""
    return topic.replace("~", "~0").replace("/", "~1")


def render(document: Document) -> str:
    """Stable text of a document (sorted keys, trailing newline)."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def stale(directory: Path, documents: dict[str, Document]) -> list[str]:
    """Documents whose checked-in file under ``directory`` is missing or differs."""
    return [
        name
        for name, document in documents.items()
        if not (directory / f"{name}.json").is_file()
        or (directory / f"{name}.json").read_text() != render(document)
    ]
