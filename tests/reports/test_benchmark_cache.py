"""benchmark_prices as a cache: only missing ranges are fetched, today is never stored, a moved
adjusted close (a dividend) replaces the series, a failed fetch is reported, not raised."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import event, func
from sqlmodel import select

from app.db import SessionMaker
from app.models import BenchmarkPrice
from app.services.benchmark_cache import BenchmarkCache
from app.services.benchmarks import BenchmarkUnavailable

TODAY = date(2024, 3, 1)  # a Friday


class FakeFetcher:
    """Returns a close for every day the fetcher would (weekdays for SPY), up to 'today' inclusive
    to prove the cache itself refuses today's partial close."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, date, date]] = []
        self.scale = 1.0
        self.fail = False

    async def fetch_closes(self, symbol: str, start: date, end: date) -> dict[date, float]:
        self.calls.append((symbol, start, end))
        if self.fail:
            raise BenchmarkUnavailable(f"{symbol} prices unavailable: Yahoo returned HTTP 503")
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        return {d: (100.0 + d.toordinal() % 50) * self.scale for d in days
                if d <= TODAY and (symbol != "SPY" or d.weekday() < 5)}


async def rows(db: SessionMaker, symbol: str) -> int:
    async with db() as session:
        stmt = select(func.count()).select_from(BenchmarkPrice).where(BenchmarkPrice.symbol == symbol)
        return int((await session.exec(stmt)).one())


async def series(db: SessionMaker, cache: BenchmarkCache, symbol: str, start: date, end: date) -> dict[date, float]:
    async with db() as session:
        result = await cache.series(session, symbol, start, end)
        await session.commit()
    assert result.available, result.reason
    return result.closes


async def test_fetches_only_missing_ends_and_never_today(db: SessionMaker) -> None:
    fetcher = FakeFetcher()
    cache = BenchmarkCache(fetcher, today=lambda: TODAY)
    closes = await series(db, cache, "BTC-USD", date(2024, 2, 1), date(2024, 3, 10))
    assert max(closes) == TODAY - timedelta(days=1) and len(closes) == 29
    assert fetcher.calls == [("BTC-USD", date(2024, 2, 1), date(2024, 2, 29))]
    await series(db, cache, "BTC-USD", date(2024, 2, 5), date(2024, 2, 20))
    assert len(fetcher.calls) == 1  # inside the cached span: no fetch
    await series(db, cache, "BTC-USD", date(2024, 1, 20), date(2024, 2, 29))
    assert fetcher.calls[-1] == ("BTC-USD", date(2024, 1, 20), date(2024, 2, 1))  # reaches the boundary day
    assert await rows(db, "BTC-USD") == 41


async def test_weekends_are_not_refetched_for_stock_benchmarks(db: SessionMaker) -> None:
    fetcher = FakeFetcher()
    cache = BenchmarkCache(fetcher, today=lambda: date(2024, 3, 4))  # Monday: Sat/Sun are "missing"
    await series(db, cache, "SPY", date(2024, 2, 1), date(2024, 3, 3))
    calls = len(fetcher.calls)
    await series(db, cache, "SPY", date(2024, 2, 3), date(2024, 3, 3))  # starts and ends on weekends
    assert len(fetcher.calls) == calls


async def test_a_moved_adjusted_close_replaces_the_cached_series(db: SessionMaker) -> None:
    fetcher = FakeFetcher()
    cache = BenchmarkCache(fetcher, today=lambda: TODAY)
    before = await series(db, cache, "SPY", date(2024, 1, 2), date(2024, 1, 31))
    fetcher.scale = 0.99  # a dividend: Yahoo rescaled all earlier adjusted closes
    after = await series(db, cache, "SPY", date(2024, 1, 2), date(2024, 2, 20))
    assert fetcher.calls[-1] == ("SPY", date(2024, 1, 2), date(2024, 2, 20))  # one consistent download
    assert after[date(2024, 1, 2)] == before[date(2024, 1, 2)] * 0.99


async def test_failed_fetch_is_a_reason_not_an_error(db: SessionMaker) -> None:
    fetcher = FakeFetcher()
    fetcher.fail = True
    cache = BenchmarkCache(fetcher, today=lambda: TODAY)
    async with db() as session:
        result = await cache.series(session, "QQQ", date(2024, 1, 2), date(2024, 1, 31))
    assert (result.available, result.reason) == (False, "QQQ prices unavailable: Yahoo returned HTTP 503")
    assert result.describe() == {"symbol": "QQQ", "available": False, "reason": result.reason}


async def test_every_fetch_happens_before_any_write(db: SessionMaker) -> None:
    """Extending both ends of the cached span: no write (SQLite's database lock) is held across a fetch."""
    timeline: list[str] = []

    class RecordingFetcher(FakeFetcher):
        async def fetch_closes(self, symbol: str, start: date, end: date) -> dict[date, float]:
            timeline.append("fetch")
            return await super().fetch_closes(symbol, start, end)

    cache = BenchmarkCache(RecordingFetcher(), today=lambda: TODAY)
    await series(db, cache, "BTC-USD", date(2024, 2, 10), date(2024, 2, 15))
    timeline.clear()

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "DELETE", "UPDATE")):
            timeline.append("write")

    async with db() as session:
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", record)
        try:
            result = await cache.series(session, "BTC-USD", date(2024, 2, 1), date(2024, 2, 25))
            await session.commit()
        finally:
            event.remove(engine, "before_cursor_execute", record)
    assert result.available
    assert timeline[:2] == ["fetch", "fetch"] and set(timeline[2:]) == {"write"}, timeline
