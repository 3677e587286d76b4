"""Daily benchmark closes: SPY and QQQ from Yahoo's chart API, BTC-USD and ETH-USD from a public
ccxt venue's daily candles. Pure fetching — caching in ``benchmark_prices`` lives elsewhere.

Every close is keyed by the day whose close it is: the US market day for Yahoo, the UTC day of the
candle for crypto. Days that may still be in progress (today, UTC) are never returned, so a cache
never stores a partial close.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import httpx

from app.errors import BadRequest, UpstreamError

YAHOO_BASE = "https://query1.finance.yahoo.com"
YAHOO_SYMBOLS = frozenset({"SPY", "QQQ"})
CRYPTO_PAIRS: Mapping[str, str] = {"BTC-USD": "BTC/USDT", "ETH-USD": "ETH/USDT"}
# The one list of benchmarks: request schemas use the type, the service the tuple.
Benchmark = Literal["BTC-USD", "ETH-USD", "QQQ", "SPY"]
SUPPORTED: tuple[str, ...] = get_args(Benchmark)
assert set(SUPPORTED) == YAHOO_SYMBOLS | CRYPTO_PAIRS.keys()
_DAY_MS = 86_400_000
_CANDLE_PAGE = 1000  # Binance's maximum per klines request


class BenchmarkUnavailable(UpstreamError):
    code = "benchmark_unavailable"


class UnsupportedBenchmark(BadRequest):
    code = "unsupported_benchmark"


def _utc_today() -> date:
    return datetime.now(UTC).date()


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def rewrite_api_urls(urls: Any, base: str) -> Any:
    """Point every URL of a ccxt ``urls['api']`` tree at ``base``, keeping each path, so a test (or a
    proxy) can stand in for the venue while ccxt signs and parses exactly as in production."""
    if isinstance(urls, str):
        return base.rstrip("/") + urlsplit(urls).path
    if isinstance(urls, dict):
        return {k: rewrite_api_urls(v, base) for k, v in urls.items()}
    return urls


class BenchmarkFetcher:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        yahoo_base: str = YAHOO_BASE,
        crypto_venue: str = "binance",
        crypto_base_url: str | None = None,
        crypto_pairs: Mapping[str, str] = CRYPTO_PAIRS,
        ccxt_options: Mapping[str, Any] | None = None,
        use_adjusted_close: bool = True,
        timeout: float = 15.0,
        today: Callable[[], date] = _utc_today,
    ) -> None:
        self._http = http
        self._yahoo = yahoo_base.rstrip("/")
        self._venue = crypto_venue
        self._crypto_base = crypto_base_url
        self._pairs = dict(crypto_pairs)
        # Binance would otherwise also load its futures markets from two more hosts.
        default_opts = {"fetchMarkets": {"types": ["spot"]}} if crypto_venue == "binance" else {}
        self._ccxt_options = dict(ccxt_options if ccxt_options is not None else default_opts)
        self._adjusted = use_adjusted_close
        self._timeout = timeout
        self._today = today

    async def fetch_closes(self, symbol: str, start: date, end: date) -> dict[date, float]:
        """Closes for every completed day in [start, end] the source has (markets close on some days)."""
        if start > end:
            raise ValueError("start must not be after end")
        last = min(end, self._today() - timedelta(days=1))
        if last < start:
            return {}
        if symbol in YAHOO_SYMBOLS:
            return await self._yahoo_closes(symbol, start, last)
        if symbol in self._pairs:
            return await self._crypto_closes(symbol, self._pairs[symbol], start, last)
        raise UnsupportedBenchmark(f"unsupported benchmark {symbol!r}; choose one of {', '.join(SUPPORTED)}")

    # --- Yahoo ---------------------------------------------------------------------------------

    async def _yahoo_closes(self, symbol: str, start: date, end: date) -> dict[date, float]:
        url = f"{self._yahoo}/v8/finance/chart/{symbol}"
        params: dict[str, str | int] = {"period1": _epoch(start), "period2": _epoch(end + timedelta(days=1)),
                  "interval": "1d", "includeAdjustedClose": "true"}
        try:
            resp = await self._http.get(url, params=params, timeout=self._timeout,
                                        headers={"User-Agent": "Mozilla/5.0 (zka benchmark fetcher)"})
        except httpx.HTTPError as exc:
            raise BenchmarkUnavailable(f"{symbol} prices unavailable: Yahoo request failed "
                                       f"({type(exc).__name__})") from exc
        if resp.status_code != 200:
            raise BenchmarkUnavailable(f"{symbol} prices unavailable: Yahoo returned HTTP {resp.status_code}")
        try:
            closes = parse_yahoo_chart(resp.json(), adjusted=self._adjusted)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise BenchmarkUnavailable(f"{symbol} prices unavailable: unexpected Yahoo response ({exc})") from exc
        return {d: c for d, c in closes.items() if start <= d <= end}

    # --- ccxt venue ------------------------------------------------------------------------------

    async def _crypto_closes(self, symbol: str, pair: str, start: date, end: date) -> dict[date, float]:
        import ccxt.async_support as ccxt_async  # heavy: imported only when a crypto benchmark is asked

        exchange = getattr(ccxt_async, self._venue)({
            "enableRateLimit": True, "timeout": int(self._timeout * 1000), "options": self._ccxt_options,
        })
        if self._crypto_base:
            exchange.urls["api"] = rewrite_api_urls(exchange.urls["api"], self._crypto_base)
        try:
            return await self._paginate(exchange, pair, start, end)
        except (TimeoutError, ccxt_async.BaseError, OSError) as exc:
            raise BenchmarkUnavailable(f"{symbol} prices unavailable: {self._venue} {pair} daily candles "
                                       f"failed ({type(exc).__name__})") from exc
        finally:
            await exchange.close()

    @staticmethod
    async def _paginate(exchange: Any, pair: str, start: date, end: date) -> dict[date, float]:
        since, stop = _epoch(start) * 1000, _epoch(end + timedelta(days=1)) * 1000
        out: dict[date, float] = {}
        while since < stop:
            candles = await exchange.fetch_ohlcv(pair, "1d", since, _CANDLE_PAGE)
            if not candles:
                break
            for ts, _open, _high, _low, close, *_ in candles:
                day = datetime.fromtimestamp(ts / 1000, UTC).date()
                if close is not None and start <= day <= end:
                    out[day] = float(close)
            next_since = int(candles[-1][0]) + _DAY_MS
            if next_since <= since:  # a venue ignoring `since` must not loop forever
                break
            since = next_since
        return out


def parse_yahoo_chart(payload: dict[str, Any], *, adjusted: bool = True) -> dict[date, float]:
    """``chart.result[0]``: ``timestamp`` (bar start, epoch s) + ``indicators.quote[0].close`` and,
    when present and wanted, ``indicators.adjclose[0].adjclose`` (dividends and splits reinvested —
    the fair comparison for a total-return portfolio). Null closes (halts, missing bars) are skipped.
    Timestamps are shifted by the exchange's ``meta.gmtoffset`` so each bar lands on its market day.
    """
    chart = payload["chart"]
    if err := chart.get("error"):
        detail = err.get("description") or err.get("code") if isinstance(err, dict) else err
        raise ValueError(str(detail or "error"))
    result = chart["result"][0]
    stamps = result.get("timestamp") or []
    indicators = result["indicators"]
    closes = indicators["quote"][0]["close"]
    adj = indicators.get("adjclose")
    if adjusted and adj and adj[0].get("adjclose"):
        closes = adj[0]["adjclose"]
    if len(closes) != len(stamps):
        raise ValueError("timestamps and closes differ in length")
    offset = int(result.get("meta", {}).get("gmtoffset") or 0)
    out: dict[date, float] = {}
    for ts, close in zip(stamps, closes, strict=True):
        if close is not None and close > 0:
            out[datetime.fromtimestamp(int(ts) + offset, UTC).date()] = float(close)
    return out
