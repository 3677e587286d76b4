"""Local stand-ins for the benchmark sources, served over real loopback HTTP.

Yahoo chart API v8 (layout as in tests/analytics/test_benchmarks.py): weekday bars at 09:30 New York,
`indicators.quote[0].close` and `indicators.adjclose[0].adjclose`, honouring period1/period2.
Binance `GET /api/v3/klines` + exchangeInfo, for the real ccxt client.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web

from tests.fakes.ccxt_venues import markets_file

DAY_MS = 86_400_000


def spy_close(day: date) -> float:
    """A deterministic, gently rising price with some wiggle."""
    n = (day - date(2020, 1, 1)).days
    return round(300.0 * (1.0003 ** n) * (1 + 0.01 * ((n * 7) % 11 - 5) / 5), 2)


class FakeYahoo:
    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.fail = False
        self.adjust = 1.0  # multiply every adjusted close (a dividend rescales history)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append({"path": request.path, **request.query})
        if self.fail:
            return web.Response(status=429, text="Too Many Requests")
        start = datetime.fromtimestamp(int(request.query["period1"]), UTC).date()
        stop = datetime.fromtimestamp(int(request.query["period2"]), UTC).date()
        days = [start + timedelta(days=i) for i in range((stop - start).days)]
        days = [d for d in days if d.weekday() < 5]
        stamps = [int(datetime(d.year, d.month, d.day, 14, 30, tzinfo=UTC).timestamp()) for d in days]
        closes = [spy_close(d) for d in days]
        result = {
            "meta": {"currency": "USD", "symbol": request.match_info["symbol"], "gmtoffset": -18000,
                     "exchangeTimezoneName": "America/New_York"},
            "timestamp": stamps,
            "indicators": {"quote": [{"close": closes}],
                           "adjclose": [{"adjclose": [round(c * self.adjust, 6) for c in closes]}]},
        }
        return web.json_response({"chart": {"result": [result], "error": None}})


class FakeBinance:
    def __init__(self) -> None:
        self.kline_requests = 0

    async def handle(self, request: web.Request) -> web.Response:
        if request.path == "/api/v3/exchangeInfo":
            return web.json_response(markets_file("binance")["spot"])
        if request.path == "/api/v3/klines":
            self.kline_requests += 1
            start, limit = int(request.query["startTime"]), int(request.query["limit"])
            first = start - start % DAY_MS
            stop = int(datetime.now(UTC).timestamp() * 1000)
            rows = []
            for i in range(limit):
                t = first + i * DAY_MS
                if t > stop:
                    break
                close = f"{30000 + (t // DAY_MS) % 997:.8f}"
                rows.append([t, close, close, close, close, "1.0", t + DAY_MS - 1, "1.0", 1, "1.0", "1.0", "0"])
            return web.json_response(rows)
        return web.json_response({"code": -5000, "msg": "unknown path"}, status=404)


async def serve(handler: Any, route: str) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_route("GET", route, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"
