"""Benchmark fetchers against local fakes: Yahoo through httpx.MockTransport, Binance through a real
loopback HTTP server that the real ccxt async client talks to.

Formats:
- Yahoo chart API v8: the layout of ``chart.result[0]`` (meta with gmtoffset/exchangeTimezoneName,
  ``timestamp`` = bar start in epoch seconds at 09:30 New York, ``indicators.quote[0]`` OHLCV arrays,
  ``indicators.adjclose[0].adjclose``, ``chart.error`` null or {code, description}) as returned by
  query1.finance.yahoo.com and typed in public client code (e.g. xinyuwen23/stock-helper
  src/shared/models/sp500.model.ts). Closes below are SPY's first four sessions of 2024.
- Binance ``GET /api/v3/klines``: arrays [openTime, open, high, low, close, volume, closeTime,
  quoteVolume, trades, takerBase, takerQuote, "0"] with prices as strings (Binance Spot API docs,
  "Kline/Candlestick data"); exchangeInfo from tests/fakes/data/ccxt/binance_markets.json.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web

from app.services.benchmarks import (
    BenchmarkFetcher,
    BenchmarkUnavailable,
    UnsupportedBenchmark,
    parse_yahoo_chart,
    rewrite_api_urls,
)
from tests.fakes.ccxt_venues import markets_file

TODAY = date(2024, 6, 1)

YAHOO_SPY = {
    "chart": {
        "result": [{
            "meta": {
                "currency": "USD", "symbol": "SPY", "exchangeName": "PCX", "fullExchangeName": "NYSEArca",
                "instrumentType": "ETF", "firstTradeDate": 728317800, "regularMarketTime": 1704488400,
                "hasPrePostMarketData": True, "gmtoffset": -18000, "timezone": "EST",
                "exchangeTimezoneName": "America/New_York", "regularMarketPrice": 467.92,
                "chartPreviousClose": 475.31, "priceHint": 2, "dataGranularity": "1d", "range": "",
                "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
            },
            "timestamp": [1704205800, 1704292200, 1704378600, 1704465000],
            "indicators": {
                "quote": [{
                    "open": [472.16, 470.43, 468.3, 467.49],
                    "high": [473.67, 471.19, 470.96, 470.44],
                    "low": [470.49, 468.17, 467.05, 466.43],
                    "close": [472.65, 468.79, None, 467.92],
                    "volume": [123623700, 103585900, 84232200, 86118900],
                }],
                "adjclose": [{"adjclose": [464.77, 460.98, None, 460.12]}],
            },
        }],
        "error": None,
    }
}


def yahoo_client(handler: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_yahoo_closes_keyed_by_market_day_preferring_adjclose() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=YAHOO_SPY)

    async with yahoo_client(handler) as http:
        fetcher = BenchmarkFetcher(http, yahoo_base="https://yahoo.test", today=lambda: TODAY)
        closes = await fetcher.fetch_closes("SPY", date(2024, 1, 1), date(2024, 1, 5))
    assert closes == {date(2024, 1, 2): 464.77, date(2024, 1, 3): 460.98, date(2024, 1, 5): 460.12}
    url = seen[0].url
    assert (url.host, url.path) == ("yahoo.test", "/v8/finance/chart/SPY")
    assert url.params["interval"] == "1d"
    assert int(url.params["period1"]) == int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    assert int(url.params["period2"]) == int(datetime(2024, 1, 6, tzinfo=UTC).timestamp())


async def test_yahoo_raw_close_and_range_and_today_filter() -> None:
    async with yahoo_client(lambda r: httpx.Response(200, json=YAHOO_SPY)) as http:
        raw = BenchmarkFetcher(http, use_adjusted_close=False, today=lambda: date(2024, 1, 5))
        closes = await raw.fetch_closes("QQQ", date(2024, 1, 3), date(2024, 1, 31))
    # Jan 5 is "today": its bar may still be trading, so it is not returned.
    assert closes == {date(2024, 1, 3): 468.79}


def test_parse_without_adjclose_uses_close() -> None:
    payload = json.loads(json.dumps(YAHOO_SPY))
    del payload["chart"]["result"][0]["indicators"]["adjclose"]
    assert parse_yahoo_chart(payload)[date(2024, 1, 2)] == 472.65


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(404, json={"chart": {"result": None, "error": {
            "code": "Not Found", "description": "No data found, symbol may be delisted"}}}), "HTTP 404"),
        (httpx.Response(200, json={"chart": {"result": None, "error": {
            "code": "Bad Request", "description": "Invalid input"}}}), "Invalid input"),
        (httpx.Response(200, text="<html>rate limited</html>"), "unexpected Yahoo response"),
        (httpx.Response(429, text="Too Many Requests"), "HTTP 429"),
    ],
)
async def test_yahoo_errors_raise_benchmark_unavailable(response: httpx.Response, message: str) -> None:
    async with yahoo_client(lambda r: response) as http:
        fetcher = BenchmarkFetcher(http, today=lambda: TODAY)
        with pytest.raises(BenchmarkUnavailable, match=message):
            await fetcher.fetch_closes("SPY", date(2024, 1, 1), date(2024, 1, 5))


async def test_yahoo_network_failure_and_unsupported_symbol() -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with yahoo_client(boom) as http:
        fetcher = BenchmarkFetcher(http, today=lambda: TODAY)
        with pytest.raises(BenchmarkUnavailable, match="SPY prices unavailable: Yahoo request failed"):
            await fetcher.fetch_closes("SPY", date(2024, 1, 1), date(2024, 1, 5))
        with pytest.raises(UnsupportedBenchmark, match="BTC-USD, ETH-USD, QQQ, SPY"):
            await fetcher.fetch_closes("DOGE", date(2024, 1, 1), date(2024, 1, 5))
        assert await fetcher.fetch_closes("SPY", TODAY, TODAY) == {}  # nothing completed yet


def test_rewrite_api_urls_keeps_paths() -> None:
    urls = {"public": "https://api.binance.com/api/v3", "nested": {"x": "https://fapi.binance.com/fapi/v1"}}
    assert rewrite_api_urls(urls, "http://127.0.0.1:9/") == {
        "public": "http://127.0.0.1:9/api/v3", "nested": {"x": "http://127.0.0.1:9/fapi/v1"}}


# --- Binance via real ccxt over loopback HTTP ------------------------------------------------------

DAY_MS = 86_400_000
FIRST = date(2020, 1, 1)


def _kline(i: int) -> list[Any]:
    open_ms = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp() * 1000) + i * DAY_MS
    close = f"{7000 + i:.8f}"
    return [open_ms, close, close, close, close, "1000.00000000", open_ms + DAY_MS - 1,
            "7000000.00000000", 1234, "500.00000000", "3500000.00000000", "0"]


class FakeBinance:
    """exchangeInfo + klines honouring symbol, startTime and limit, as Binance does."""

    def __init__(self, days: int, fail: bool = False) -> None:
        self.klines = [_kline(i) for i in range(days)]
        self.fail = fail
        self.requests: list[tuple[str, dict[str, str]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query)))
        if request.path == "/api/v3/exchangeInfo":
            return web.json_response(markets_file("binance")["spot"])
        if request.path == "/api/v3/klines":
            if self.fail:
                return web.json_response({"code": -1003, "msg": "Too much request weight used"}, status=429)
            start, limit = int(request.query["startTime"]), int(request.query["limit"])
            assert request.query["symbol"] in ("BTCUSDT", "ETHUSDT") and request.query["interval"] == "1d"
            rows = [k for k in self.klines if k[0] >= start][:limit]
            return web.json_response(rows)
        return web.json_response({"code": -5000, "msg": "unknown path"}, status=404)


async def _serve(fake: FakeBinance) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", fake.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def test_ccxt_daily_closes_paginate_over_real_http() -> None:
    fake = FakeBinance(days=1500)
    runner, base = await _serve(fake)
    try:
        async with httpx.AsyncClient() as http:
            fetcher = BenchmarkFetcher(http, crypto_base_url=base, today=lambda: FIRST + timedelta(days=1400))
            closes = await fetcher.fetch_closes("BTC-USD", date(2020, 1, 10), date(2023, 12, 31))
    finally:
        await runner.cleanup()
    last = FIRST + timedelta(days=1399)  # "today" is day 1400, still in progress
    assert min(closes) == date(2020, 1, 10) and max(closes) == last
    assert len(closes) == (last - date(2020, 1, 10)).days + 1
    assert closes[date(2020, 1, 10)] == 7009.0 and closes[last] == 7000.0 + 1399
    kline_calls = [q for path, q in fake.requests if path == "/api/v3/klines"]
    assert len(kline_calls) == 2 and all(q["symbol"] == "BTCUSDT" for q in kline_calls)
    assert {path for path, _ in fake.requests} == {"/api/v3/exchangeInfo", "/api/v3/klines"}


async def test_ccxt_venue_error_raises_benchmark_unavailable() -> None:
    fake = FakeBinance(days=10, fail=True)
    runner, base = await _serve(fake)
    try:
        async with httpx.AsyncClient() as http:
            fetcher = BenchmarkFetcher(http, crypto_base_url=base, today=lambda: TODAY)
            with pytest.raises(BenchmarkUnavailable, match="ETH-USD prices unavailable: binance ETH/USDT"):
                await fetcher.fetch_closes("ETH-USD", date(2020, 1, 1), date(2020, 1, 5))
    finally:
        await runner.cleanup()


async def test_ccxt_unreachable_venue_raises_benchmark_unavailable() -> None:
    async with httpx.AsyncClient() as http:
        fetcher = BenchmarkFetcher(http, crypto_base_url="http://127.0.0.1:9", timeout=2, today=lambda: TODAY)
        with pytest.raises(BenchmarkUnavailable, match="BTC-USD prices unavailable"):
            await fetcher.fetch_closes("BTC-USD", date(2020, 1, 1), date(2020, 1, 5))
