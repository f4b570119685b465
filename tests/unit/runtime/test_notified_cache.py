"""The notified cache: answers from memory only while the change listener is up, and never
keeps a value loaded across a change notification."""

from __future__ import annotations

import asyncio

import pytest

from driftline.runtime.notified_cache import NotifiedCache, listen_for_changes


class Loader:
    """Counts loads and hands out a new value each time."""

    def __init__(self) -> None:
        self.loads = 0
        self.gate: asyncio.Event | None = None

    async def __call__(self, key: str) -> str:
        self.loads += 1
        number = self.loads  # which load this is, whatever starts while it waits
        if self.gate is not None:
            await self.gate.wait()
        return f"{key}#{number}"


async def test_without_a_listener_every_read_loads() -> None:
    cache, load = NotifiedCache[str, str](), Loader()
    await cache.get("m", load)
    await cache.get("m", load)
    assert (load.loads, cache.live) == (2, False)


async def test_a_live_cache_answers_until_a_change_is_notified() -> None:
    cache, load = NotifiedCache[str, str](), Loader()
    cache.set_live(True)
    first = await cache.get("m", load)
    assert await cache.get("m", load) == first == "m#1"
    cache.invalidate(None, 1, "channel", "m")  # asyncpg's listener signature
    assert await cache.get("m", load) == "m#2"


async def test_a_load_racing_with_a_change_is_not_kept() -> None:
    cache, load = NotifiedCache[str, str](), Loader()
    cache.set_live(True)
    load.gate = asyncio.Event()
    racing = asyncio.create_task(cache.get("m", load))
    await asyncio.sleep(0)
    cache.invalidate()  # committed while the old state was being read
    load.gate.set()
    assert await racing == "m#1"
    assert await cache.get("m", load) == "m#2"


async def test_losing_the_listener_drops_and_stops_caching() -> None:
    cache, load = NotifiedCache[str, str](), Loader()
    cache.set_live(True)
    await cache.get("m", load)
    cache.set_live(False)
    await cache.get("m", load)
    await cache.get("m", load)
    assert load.loads == 3


async def test_values_keep_refuses_are_loaded_every_time() -> None:
    cache, load = NotifiedCache[str, str](keep=lambda value: not value.startswith("x")), Loader()
    cache.set_live(True)
    await cache.get("x", load)
    await cache.get("x", load)
    await cache.get("m", load)
    await cache.get("m", load)
    assert load.loads == 3


async def test_the_cache_never_grows_past_its_bound() -> None:
    cache, load = NotifiedCache[str, str](max_entries=2), Loader()
    cache.set_live(True)
    for key in ("a", "b", "c"):
        await cache.get(key, load)
    assert await cache.get("c", load) == "c#3"  # kept after the clear that made room
    assert await cache.get("a", load) == "a#4"  # dropped to make room


async def test_readers_missing_together_share_one_load() -> None:
    cache, load = NotifiedCache[str, str](), Loader()
    cache.set_live(True)
    load.gate = asyncio.Event()
    readers = [asyncio.create_task(cache.get("m", load)) for _ in range(16)]
    await asyncio.sleep(0.01)
    load.gate.set()
    assert set(await asyncio.gather(*readers)) == {"m#1"}
    assert load.loads == 1
    assert await cache.get("m", load) == "m#1", "kept"
    assert await cache.get("other", load) == "other#2", "another key loads on its own"


async def test_a_reader_after_a_change_does_not_join_the_load_from_before_it() -> None:
    cache, load = NotifiedCache[str, str](), Loader()
    cache.set_live(True)
    load.gate = asyncio.Event()
    before = asyncio.create_task(cache.get("m", load))
    await asyncio.sleep(0)
    cache.invalidate()  # the change commits while the old state is being read
    after = asyncio.create_task(cache.get("m", load))
    await asyncio.sleep(0)
    load.gate.set()
    assert (await before, await after) == ("m#1", "m#2")
    assert await cache.get("m", load) == "m#2", "only the load after the change is kept"
    assert load.loads == 2


async def test_a_cancelled_reader_leaves_the_shared_load_to_the_others() -> None:
    cache, load = NotifiedCache[str, str](), Loader()
    cache.set_live(True)
    load.gate = asyncio.Event()
    first = asyncio.create_task(cache.get("m", load))
    await asyncio.sleep(0)
    second = asyncio.create_task(cache.get("m", load))
    await asyncio.sleep(0)
    first.cancel()
    load.gate.set()
    assert await second == "m#1"
    assert first.cancelled()
    assert load.loads == 1


async def test_a_failed_load_fails_its_readers_and_the_next_miss_loads_again() -> None:
    cache = NotifiedCache[str, str]()
    cache.set_live(True)
    gate, calls = asyncio.Event(), []

    async def broken(key: str) -> str:
        calls.append(key)
        await gate.wait()
        if len(calls) == 1:
            raise ConnectionError("database away")
        return f"{key}#ok"

    readers = [asyncio.create_task(cache.get("m", broken)) for _ in range(3)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*readers, return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError] * 3
    assert await cache.get("m", broken) == "m#ok"
    assert calls == ["m", "m"]


class PingedConnection:
    """An asyncpg connection stand-in whose ``SELECT 1`` pings the test completes by hand."""

    def __init__(self) -> None:
        self.pinging = asyncio.Event()
        self.ping: asyncio.Future[int] | None = None
        self.listening = False

    async def add_listener(self, channel: str, callback: object) -> None:
        self.listening = True

    async def remove_listener(self, channel: str, callback: object) -> None:
        self.listening = False

    def is_closed(self) -> bool:
        return False

    def fetchval(self, query: str) -> asyncio.Future[int]:
        self.ping = asyncio.get_running_loop().create_future()
        self.pinging.set()
        return self.ping


class OneConnectionEngine:
    """``engine.connect()`` handing out one ``PingedConnection`` (what the listener uses)."""

    def __init__(self, raw: PingedConnection) -> None:
        self.raw = raw

    def connect(self) -> OneConnectionEngine:
        return self

    async def __aenter__(self) -> OneConnectionEngine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def get_raw_connection(self) -> OneConnectionEngine:
        return self

    @property
    def driver_connection(self) -> PingedConnection:
        return self.raw


async def test_the_listener_stops_when_cancelled_as_its_ping_answers() -> None:
    """The stop of a service cancels its listener once. A cancellation arriving in the same
    turn of the loop as a ping's answer was dropped by Python 3.11's ``asyncio.wait_for``: the
    listener pinged on forever and the service's stop never returned."""
    raw = PingedConnection()
    cache: NotifiedCache[str, str] = NotifiedCache(max_entries=4)
    listener = asyncio.create_task(
        listen_for_changes(OneConnectionEngine(raw), "changes", cache, ping_s=0.01)  # type: ignore[arg-type]
    )
    await raw.pinging.wait()
    assert cache.live
    assert raw.ping is not None
    raw.ping.set_result(1)  # the answer and the stop, in one turn of the loop
    listener.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(2.0):
            await listener
    assert not cache.live
    assert not raw.listening
