"""Rate-limit counters in PostgreSQL, so that replicas sharing one database share one budget (N replicas
must not allow N times the limit). A `limits` async storage for its sliding-window-counter strategy:
one counter per key per fixed window, the limit applied to the previous window's count weighted by the
part of it still inside the sliding window, plus the current one.

A hit is one atomic statement: PostgreSQL's INSERT … ON CONFLICT DO UPDATE locks the key's current row,
and its WHERE re-checks the limit on that locked row, so concurrent hits from any replica never exceed
it. Keys are stored hashed: no user id or client address reaches the database.
"""

from __future__ import annotations

import hashlib
import itertools
import time

from limits.aio.storage import SlidingWindowCounterSupport, Storage
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

_ACQUIRE = text("""
    WITH prev AS (
        SELECT COALESCE((SELECT hits FROM rate_limit_windows WHERE key = :key AND window_start = :previous), 0)
               AS hits
    )
    INSERT INTO rate_limit_windows (key, window_start, hits, expires_at)
    SELECT :key, :current, :amount, :expires FROM prev
    WHERE floor(prev.hits * CAST(:weight AS double precision)) + :amount <= :limit
    ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limit_windows.hits + :amount
    WHERE floor((SELECT hits FROM prev) * CAST(:weight AS double precision) + rate_limit_windows.hits)
          + :amount <= :limit
    RETURNING hits
""")
_WINDOWS = text("SELECT window_start, hits FROM rate_limit_windows WHERE key = :key AND window_start IN "
                "(:previous, :current)")
_PURGE = text("DELETE FROM rate_limit_windows WHERE expires_at < :now")
PURGE_EVERY = 500  # hits between purges of expired windows


def _hashed(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _windows(expiry: int, now: float) -> tuple[int, int, float]:
    """(previous window start, current window start, the previous window's weight now)."""
    current = int(now // expiry) * expiry
    return current - expiry, current, (current + expiry - now) / expiry


class SharedWindowStorage(Storage, SlidingWindowCounterSupport):
    STORAGE_SCHEME = None  # built with the app's engine, never from a URI

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__()
        self.engine = engine
        self._hits = itertools.count(1)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    async def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        previous, current, weight = _windows(expiry, now)
        async with self.engine.begin() as conn:
            row = (await conn.execute(_ACQUIRE, {
                "key": _hashed(key), "previous": previous, "current": current, "amount": amount,
                "expires": current + 2 * expiry, "weight": weight, "limit": limit,
            })).first()
            if next(self._hits) % PURGE_EVERY == 0:
                await conn.execute(_PURGE, {"now": int(now)})
        return row is not None

    async def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        now = time.time()
        previous, current, weight = _windows(expiry, now)
        async with self.engine.connect() as conn:
            rows: dict[int, int] = dict((await conn.execute(_WINDOWS, {"key": _hashed(key), "previous": previous,
                                                       "current": current})).tuples().all())
        previous_hits, current_hits = rows.get(previous, 0), rows.get(current, 0)
        return previous_hits, weight * expiry if previous_hits else 0.0, current_hits, current + 2 * expiry - now

    async def clear_sliding_window(self, key: str, expiry: int) -> None:  # noqa: ARG002 - the interface's
        async with self.engine.begin() as conn:
            await conn.execute(text("DELETE FROM rate_limit_windows WHERE key = :key"), {"key": _hashed(key)})

    # The rest of the storage interface: only the sliding-window-counter strategy uses this storage.
    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("SharedWindowStorage serves the sliding-window-counter strategy only")

    async def get(self, key: str) -> int:
        raise NotImplementedError("SharedWindowStorage serves the sliding-window-counter strategy only")

    async def get_expiry(self, key: str) -> float:
        raise NotImplementedError("SharedWindowStorage serves the sliding-window-counter strategy only")

    async def check(self) -> bool:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def reset(self) -> int | None:
        async with self.engine.begin() as conn:
            return (await conn.execute(text("DELETE FROM rate_limit_windows"))).rowcount

    async def clear(self, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text("DELETE FROM rate_limit_windows WHERE key = :key"), {"key": _hashed(key)})
