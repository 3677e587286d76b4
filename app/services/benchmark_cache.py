"""Benchmark closes through the `benchmark_prices` cache: read what is cached, fetch only what is
missing at either end of the cached span, store it (the request's transaction commits it).

Policy (documented in the README):
- A symbol's cached days form one contiguous span [first, last]; only [start, first) and (last, end]
  are ever fetched. Days inside the span without a close (market holidays) are not refetched.
- Yahoo symbols trade on weekdays only, so a missing range made of weekend days is not fetched.
- Today's (UTC) close is never stored: the fetcher does not return it and `store` refuses it.
- Adjusted closes: Yahoo rescales every adjusted close before an ex-dividend date when a dividend is
  paid, so old cached values and new ones can be on different scales (a spurious return where they
  meet). Each extension therefore refetches the cached boundary day; if its close moved (relative
  difference above 1e-6), the symbol's cache is dropped and the whole requested range refetched, so
  every series used in a report comes from one consistent download. Crypto closes never move.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import delete, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import BenchmarkPrice
from app.services.benchmarks import (
    SUPPORTED,
    YAHOO_SYMBOLS,
    BenchmarkFetcher,
    BenchmarkUnavailable,
    UnsupportedBenchmark,
)

if TYPE_CHECKING:
    from app.state import AppState

_MOVED = 1e-6


class CloseFetcher(Protocol):
    async def fetch_closes(self, symbol: str, start: date, end: date) -> dict[date, float]: ...


@dataclass(frozen=True)
class BenchmarkSeries:
    symbol: str
    closes: dict[date, float]
    available: bool
    reason: str | None = None

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"symbol": self.symbol, "available": self.available}
        if self.reason:
            out["reason"] = self.reason
        return out


def check_symbol(symbol: str) -> str:
    if symbol not in SUPPORTED:
        raise UnsupportedBenchmark(f"unsupported benchmark {symbol[:16]!r}; choose one of {', '.join(SUPPORTED)}")
    return symbol


def _utc_today() -> date:
    return datetime.now(UTC).date()


class BenchmarkCache:
    def __init__(self, fetcher: CloseFetcher, *, today: Callable[[], date] = _utc_today) -> None:
        self._fetcher = fetcher
        self._today = today

    async def series(self, session: AsyncSession, symbol: str, start: date, end: date) -> BenchmarkSeries:
        """Closes for [start, end]; a failed fetch gives `available=False` with the reason, never an error."""
        check_symbol(symbol)
        try:
            await self._fill(session, symbol, start, end)
        except BenchmarkUnavailable as exc:
            return BenchmarkSeries(symbol, {}, False, exc.message)
        closes = await self.cached(session, symbol, start, end)
        if len(closes) < 2:
            return BenchmarkSeries(symbol, closes, False, f"no {symbol} closes for this period")
        return BenchmarkSeries(symbol, closes, True)

    async def cached(self, session: AsyncSession, symbol: str, start: date, end: date) -> dict[date, float]:
        rows = await session.exec(select(col(BenchmarkPrice.day), col(BenchmarkPrice.close)).where(
            BenchmarkPrice.symbol == symbol, col(BenchmarkPrice.day) >= start, col(BenchmarkPrice.day) <= end))
        return {day: float(close) for day, close in rows.all()}

    async def _span(self, session: AsyncSession, symbol: str) -> tuple[date | None, date | None]:
        stmt = select(func.min(BenchmarkPrice.day), func.max(BenchmarkPrice.day)).where(
            col(BenchmarkPrice.symbol) == symbol)
        first, last = (await session.exec(stmt)).one()
        return first, last

    async def _fill(self, session: AsyncSession, symbol: str, start: date, end: date) -> None:
        """Every fetch happens before any write: a write takes SQLite's database lock, which must not be
        held across a network call."""
        end = min(end, self._today() - timedelta(days=1))
        if end < start:
            return
        first, last = await self._span(session, symbol)
        if first is None or last is None:
            await self._replace(session, symbol, start, end)
            return
        # Extensions always reach the cached span (even across a gap), so the span stays contiguous.
        extensions: list[dict[date, float]] = []
        if start < first and self._tradable(symbol, start, first - timedelta(days=1)):
            before = await self._extension(session, symbol, start, first, boundary=first)
            if before is None:
                await self._replace(session, symbol, start, max(end, first))
                return
            extensions.append(before)
        if end > last and self._tradable(symbol, last + timedelta(days=1), end):
            after = await self._extension(session, symbol, last, end, boundary=last)
            if after is None:
                await self._replace(session, symbol, min(start, last), end)
                return
            extensions.append(after)
        for closes in extensions:
            await self.store(session, symbol, closes)

    @staticmethod
    def _tradable(symbol: str, start: date, end: date) -> bool:
        if symbol not in YAHOO_SYMBOLS:
            return True
        return any((start + timedelta(days=i)).weekday() < 5 for i in range(min((end - start).days + 1, 7)))

    async def _extension(
        self, session: AsyncSession, symbol: str, start: date, end: date, *, boundary: date
    ) -> dict[date, float] | None:
        """Fetch [start, end] (which includes the cached boundary day): the new closes, or None when the
        boundary moved (adjusted closes were rescaled) and the cache must be replaced."""
        fresh = await self._fetcher.fetch_closes(symbol, start, end)
        old = (await self.cached(session, symbol, boundary, boundary)).get(boundary)
        new = fresh.get(boundary)
        if old is not None and new is not None and abs(new - old) > _MOVED * abs(old):
            return None
        return {d: c for d, c in fresh.items() if d != boundary}

    async def _replace(self, session: AsyncSession, symbol: str, start: date, end: date) -> None:
        fresh = await self._fetcher.fetch_closes(symbol, start, end)
        await session.exec(delete(BenchmarkPrice).where(col(BenchmarkPrice.symbol) == symbol))
        await self.store(session, symbol, fresh)

    async def store(self, session: AsyncSession, symbol: str, closes: dict[date, float]) -> None:
        today = self._today()
        rows = [{"symbol": symbol, "day": d, "close": Decimal(repr(c))} for d, c in closes.items() if d < today]
        if not rows:
            return
        postgres = session.get_bind().dialect.name == "postgresql"
        stmt = (postgresql.insert(BenchmarkPrice) if postgres else sqlite.insert(BenchmarkPrice)).values(rows)
        await session.exec(stmt.on_conflict_do_nothing())


def benchmark_cache_for(state: AppState) -> BenchmarkCache:
    """One cache per app, over the enclave's shared outbound HTTP client (tests may pre-set it)."""
    cache = state.extras.get("benchmark_cache")
    if cache is None:
        sync = state.settings.sync
        fetcher = BenchmarkFetcher(state.http.client(), yahoo_base=sync.benchmark_yahoo_url,
                                   crypto_venue=sync.benchmark_crypto_venue, crypto_base_url=sync.benchmark_crypto_url)
        cache = state.extras["benchmark_cache"] = BenchmarkCache(fetcher)
    assert isinstance(cache, BenchmarkCache)
    return cache
