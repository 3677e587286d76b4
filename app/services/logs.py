"""Live log hub: a ring buffer of redacted entries and bounded per-client queues for the SSE stream.

Entries arrive from any thread (logging is synchronous); delivery to subscribers is handed to the
event loop with call_soon_threadsafe so queues are only touched on the loop.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from app.errors import ServiceUnavailable


@dataclass
class LogEntry:
    id: int
    level: str
    event: str
    fields: dict[str, Any]
    timestamp: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "timestamp": self.timestamp, "level": self.level, "event": self.event,
                "fields": self.fields}


@dataclass(eq=False)
class _Subscriber:
    queue: asyncio.Queue[LogEntry]
    dropped: int = 0


Subscription = _Subscriber  # a client's slot and queue, from LogHub.subscribe()


@dataclass
class StreamItem:
    """What the SSE route sends: an entry, a notice of lost entries, or a keep-alive."""

    kind: str  # "log" | "dropped" | "ping"
    entry: LogEntry | None = None
    dropped: int = 0


@dataclass(eq=False)
class LogHub:
    ring_size: int = 1000
    queue_size: int = 256
    max_clients: int = 50
    _ring: deque[LogEntry] = field(init=False)
    _ids: itertools.count[int] = field(init=False, default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _subscribers: set[_Subscriber] = field(init=False, default_factory=set)
    _loop: asyncio.AbstractEventLoop | None = field(init=False, default=None)
    _closed: asyncio.Event | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._ring = deque(maxlen=self.ring_size)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._closed = asyncio.Event()

    def publish(self, *, level: str, event: str, fields: dict[str, Any], timestamp: str) -> LogEntry:
        with self._lock:
            entry = LogEntry(next(self._ids), level, event, fields, timestamp)
            self._ring.append(entry)
        loop = self._loop
        if loop is not None and self._subscribers and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._deliver, entry)
            except RuntimeError:  # loop shutting down
                pass
        return entry

    def recent(self, *, after_id: int = 0, limit: int = 200) -> list[LogEntry]:
        with self._lock:
            entries = [e for e in self._ring if e.id > after_id]
        return entries[-limit:]

    def _deliver(self, entry: LogEntry) -> None:
        for sub in list(self._subscribers):
            if sub.queue.full():
                sub.dropped += 1
            else:
                sub.queue.put_nowait(entry)

    def close(self) -> None:
        """End every stream (graceful shutdown). Call on the event loop."""
        if self._closed is not None:
            self._closed.set()

    def close_threadsafe(self) -> None:
        """close() from a signal handler or another thread."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.close)

    def subscribe(self) -> Subscription:
        """Take a client slot, or ServiceUnavailable at the cap: before a stream starts, so a refused
        client gets a 503 rather than a 200 cut short."""
        if len(self._subscribers) >= self.max_clients:
            raise ServiceUnavailable("too many log stream clients; try again later", code="too_many_clients")
        sub = _Subscriber(asyncio.Queue(maxsize=self.queue_size))
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    async def stream(
        self, *, last_event_id: int | None, ping_s: float = 15.0, subscription: Subscription | None = None,
    ) -> AsyncIterator[StreamItem]:
        """Replay after last_event_id, then live entries; keep-alives when idle; ends on close(). Without
        a subscription taken beforehand, the stream takes (and gives back) its own."""
        sub = subscription or self.subscribe()
        try:
            last = last_event_id or 0
            for entry in self.recent(after_id=last, limit=self.ring_size):
                last = entry.id
                yield StreamItem("log", entry)
            async for item in self._live(sub, after_id=last, ping_s=ping_s):
                yield item
        finally:
            if subscription is None:
                self.unsubscribe(sub)

    async def _live(self, sub: _Subscriber, *, after_id: int, ping_s: float) -> AsyncIterator[StreamItem]:
        closed = self._closed or asyncio.Event()
        while not closed.is_set():
            getter = asyncio.ensure_future(sub.queue.get())
            closer = asyncio.ensure_future(closed.wait())
            done, _ = await asyncio.wait({getter, closer}, timeout=ping_s, return_when=asyncio.FIRST_COMPLETED)
            closer.cancel()
            if getter not in done:
                getter.cancel()
                if not done:
                    yield StreamItem("ping")
                continue
            entry = getter.result()
            if sub.dropped:
                yield StreamItem("dropped", dropped=sub.dropped)
                sub.dropped = 0
            if entry.id > after_id:
                yield StreamItem("log", entry)
