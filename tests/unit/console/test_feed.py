"""The live feed: server-sent events, one HTML list item per new audited event."""

from __future__ import annotations

import asyncio

from driftline.console.deps import ConsoleDeps, build_templates
from driftline.console.settings import ConsoleSection
from driftline.console.web import audit_pages
from tests.unit.console.conftest import lifecycle
from tests.unit.console.fakes import FakeUpstream


class _Browser:
    """A request that stays connected for ``polls`` polls."""

    def __init__(self, polls: int) -> None:
        self._polls = polls

    async def is_disconnected(self) -> bool:
        self._polls -= 1
        return self._polls < 0


def _collect(after: int, polls: int) -> list[str]:
    deps = ConsoleDeps(lifecycle(), FakeUpstream(), build_templates(), ConsoleSection(), False)

    async def run() -> list[str]:
        return [chunk async for chunk in audit_pages._stream(deps, _Browser(polls), after, 0.0)]

    return asyncio.run(run())


def test_events_after_the_last_seen_position_arrive_as_sse_messages_in_order() -> None:
    chunks = _collect(after=10, polls=1)
    assert chunks[0] == "retry: 3000\n\n"
    assert [c.split("\n")[0] for c in chunks[1:]] == ["id: 11", "id: 12"]
    assert all(c.split("\n")[1] == "event: audit" for c in chunks[1:])
    assert "deployment.canary-rolled-back" in chunks[1]
    assert chunks[1].count("\n") == 4  # one data line: the item is on one line


def test_a_new_browser_starts_at_the_newest_event_not_the_whole_history() -> None:
    assert _collect(after=0, polls=1) == ["retry: 3000\n\n"]
