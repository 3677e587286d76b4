"""The live log stream, driven to a bound (test clients buffer, so the generator is tested directly)."""

from __future__ import annotations

import asyncio

import pytest

from app.errors import ServiceUnavailable
from app.services.logs import LogHub, StreamItem


def _publish(hub: LogHub, n: int) -> None:
    for i in range(n):
        hub.publish(level="info", event=f"line {i}", fields={}, timestamp="t")


async def _take(stream: object, n: int, wait_s: float = 2.0) -> list[StreamItem]:
    items: list[StreamItem] = []

    async def collect() -> None:
        async for item in stream:  # type: ignore[attr-defined]
            items.append(item)
            if len(items) >= n:
                return

    await asyncio.wait_for(collect(), wait_s)
    return items


@pytest.fixture
async def hub() -> LogHub:
    hub = LogHub(ring_size=1000, queue_size=4, max_clients=2)
    hub.attach(asyncio.get_running_loop())
    return hub


async def test_ring_buffer_keeps_the_newest_thousand() -> None:
    hub = LogHub(ring_size=1000)
    _publish(hub, 1500)
    recent = hub.recent(limit=1000)
    assert len(recent) == 1000
    assert recent[0].id == 501 and recent[-1].id == 1500


async def test_stream_replays_after_last_event_id(hub: LogHub) -> None:
    _publish(hub, 10)
    items = await _take(hub.stream(last_event_id=7), 3)
    assert [i.entry.id for i in items if i.entry] == [8, 9, 10]


async def test_stream_delivers_live_entries_including_from_threads(hub: LogHub) -> None:
    stream = hub.stream(last_event_id=None)
    task = asyncio.ensure_future(_take(stream, 2))
    await asyncio.sleep(0.05)
    await asyncio.to_thread(_publish, hub, 2)
    items = await task
    assert [i.entry.event for i in items if i.entry] == ["line 0", "line 1"]


async def test_slow_client_is_told_how_many_entries_it_lost(hub: LogHub) -> None:
    stream = hub.stream(last_event_id=None).__aiter__()
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0.05)
    _publish(hub, 10)  # delivered together: the queue keeps 4, the other 6 are lost
    await asyncio.sleep(0.05)
    items = [await first] + [await stream.__anext__() for _ in range(4)]
    assert [i.kind for i in items] == ["dropped", "log", "log", "log", "log"]
    assert items[0].dropped == 6
    assert [i.entry.event for i in items[1:] if i.entry] == ["line 0", "line 1", "line 2", "line 3"]


async def test_keep_alive_when_idle(hub: LogHub) -> None:
    items = await _take(hub.stream(last_event_id=None, ping_s=0.05), 1)
    assert items[0].kind == "ping"


async def test_client_cap_is_enforced(hub: LogHub) -> None:
    streams = [hub.stream(last_event_id=None, ping_s=0.05) for _ in range(2)]
    tasks = [asyncio.ensure_future(_take(s, 1)) for s in streams]
    await asyncio.sleep(0.01)
    with pytest.raises(ServiceUnavailable):
        await _take(hub.stream(last_event_id=None), 1)
    await asyncio.gather(*tasks)


async def test_close_ends_every_stream(hub: LogHub) -> None:
    stream = hub.stream(last_event_id=None, ping_s=10)
    task = asyncio.ensure_future(_take(stream, 100, wait_s=5))
    await asyncio.sleep(0.05)
    hub.close()
    assert await task == []
