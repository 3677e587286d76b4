"""Local fake crypto venues for ccxt: real response formats, real signature checks, loopback HTTP.

Usage (tests and the 1,000-connection scheduler benchmark):

    scenario = binance_scenario(balances={"spot": {"BTC": "0.5"}}, prices={"BTC/USDT": "50000"})
    with fake_venue("binance", scenario) as venue:      # or: base_url, stop = start_fake_venue(...)
        options = ConnectorOptions(base_url=venue.base_url)
        ...
    venue.requests  -> [(method, path), ...] seen;  venue.unknown -> requests no route answered

A Scenario is the account as the venue would serve it:
- `responses`: raw bodies in the venue's own format keyed by path (or "METHOD path"); a value may be
  a callable(query: dict[str, str]) -> body. Tests build them from tests/data/fixtures/ccxt
  httpResponse entries; the *_scenario() builders fill sensible defaults from simple balances.
- `prices`: spot prices by unified symbol, rendered as the venue's ticker list.
- credentials: the server checks the key header and recomputes the signature the way the venue does
  (binance HMAC-SHA256 hex of the query, bybit v5, okx base64 prehash, kraken SHA512, coinbase
  legacy HMAC). A wrong secret gets the venue's own auth error body. `permissive=True` accepts any
  key and skips signature checks (benchmarks with many synthetic connections).
Markets come from tests/fakes/data/ccxt/<venue>_markets.json (minimal, real format; see README there).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.connectors.base import ConnectorOptions, Credentials, DayWindow, FlowMemory
from tests.paths import FIXTURES as CCXT_FIXTURES

DATA = Path(__file__).parent / "data" / "ccxt"
FIXTURES = CCXT_FIXTURES / "ccxt" / "static-response-subsets"
Body = Any
Reply = tuple[int, Body]


class VenueRefusal(Exception):
    """Raised by a scenario's response function: the venue answers this status and body instead."""

    def __init__(self, status: int, body: Body) -> None:
        super().__init__(status)
        self.status, self.body = status, body


@dataclass
class Scenario:
    api_key: str = "test-api-key-0001"
    api_secret: str = "test-api-secret-0001"
    passphrase: str | None = None
    permissive: bool = False
    responses: dict[str, Body | Callable[[dict[str, str]], Body]] = field(default_factory=dict)
    prices: dict[str, str] = field(default_factory=dict)


def fixture(venue: str, method: str, index: int = 0) -> Any:
    """A fresh copy of one httpResponse from the recorded ccxt fixtures."""
    data = json.loads((FIXTURES / f"{venue}.subset.json").read_text())
    return json.loads(json.dumps(data["methods"][method][index]["httpResponse"]))


def markets_file(venue: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{venue}_markets.json").read_text())
    return data


def _hmac(secret: bytes, payload: bytes, digest: Any = hashlib.sha256) -> bytes:
    return hmac.new(secret, payload, digest).digest()


# -- venue adapters -------------------------------------------------------------------------------


class Adapter:
    """Per-venue rules: which paths are public, how requests are signed, built-in market/ticker data."""

    name = "base"

    def public(self, path: str) -> bool:
        raise NotImplementedError

    def verify(self, scenario: Scenario, request: Request, path: str, query: str, body: bytes) -> Reply | None:
        raise NotImplementedError

    def builtin(self, scenario: Scenario, path: str, query: dict[str, str]) -> Body | None:
        return None

    def not_found(self, path: str) -> Reply:
        return 404, {"fake": "no route", "path": path}


class BinanceAdapter(Adapter):
    """api.binance.com, fapi.binance.com and dapi.binance.com collapse onto one host (paths differ)."""

    name = "binance"
    _PUBLIC = ("/api/v3/exchangeInfo", "/fapi/v1/exchangeInfo", "/dapi/v1/exchangeInfo", "/api/v3/ticker/24hr",
               "/fapi/v1/ticker/24hr", "/dapi/v1/ticker/24hr")

    def public(self, path: str) -> bool:
        return path in self._PUBLIC

    def verify(self, scenario: Scenario, request: Request, path: str, query: str, body: bytes) -> Reply | None:
        bad_key = 401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}
        key = request.headers.get("X-MBX-APIKEY")
        if not key:
            return 401, {"code": -2014, "msg": "API-key format invalid."}
        if scenario.permissive:
            return None
        if key != scenario.api_key:
            return bad_key
        payload = query if request.method == "GET" or not body else body.decode()
        signed, sep, signature = payload.rpartition("&signature=")
        if not sep:
            return 400, {"code": -1102, "msg": "Mandatory parameter 'signature' was not sent."}
        expected = _hmac(scenario.api_secret.encode(), signed.encode()).hex()
        if not hmac.compare_digest(expected, signature):
            return 400, {"code": -1022, "msg": "Signature for this request is not valid."}
        return None

    def builtin(self, scenario: Scenario, path: str, query: dict[str, str]) -> Body | None:
        kinds = {"/api/v3/exchangeInfo": "spot", "/fapi/v1/exchangeInfo": "linear",
                 "/dapi/v1/exchangeInfo": "inverse"}
        if path in kinds:
            return markets_file("binance")[kinds[path]]
        if path in ("/api/v3/ticker/24hr", "/fapi/v1/ticker/24hr"):
            return [_binance_ticker(symbol.replace("/", ""), price) for symbol, price in scenario.prices.items()]
        if path == "/dapi/v1/ticker/24hr":  # COIN-M perpetuals are quoted in USD: BTC/USDT price -> BTCUSD_PERP
            return [_binance_ticker(symbol.replace("/USDT", "USD_PERP"), price)
                    for symbol, price in scenario.prices.items() if symbol.endswith("/USDT")]
        return None

    def not_found(self, path: str) -> Reply:
        return 404, {"code": -5000, "msg": f"Path {path}, Method GET is invalid"}


def _binance_ticker(symbol: str, price: str) -> dict[str, Any]:
    return {"symbol": symbol, "priceChange": "0", "priceChangePercent": "0",
            "weightedAvgPrice": price, "prevClosePrice": price, "lastPrice": price, "lastQty": "1",
            "bidPrice": price, "bidQty": "1", "askPrice": price, "askQty": "1", "openPrice": price,
            "highPrice": price, "lowPrice": price, "volume": "0", "quoteVolume": "0",
            "openTime": 1714867200000, "closeTime": 1714953599999, "firstId": 1, "lastId": 1, "count": 1}


class OkxAdapter(Adapter):
    """OKX v5: OK-ACCESS-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD + path?query + body))."""

    name = "okx"

    def public(self, path: str) -> bool:
        return path.startswith(("/api/v5/public/", "/api/v5/market/"))

    def verify(self, scenario: Scenario, request: Request, path: str, query: str, body: bytes) -> Reply | None:
        key = request.headers.get("OK-ACCESS-KEY")
        sign = request.headers.get("OK-ACCESS-SIGN")
        stamp = request.headers.get("OK-ACCESS-TIMESTAMP")
        if not key or not sign or not stamp:
            return 401, {"code": "50103", "msg": "Request header OK-ACCESS-KEY can not be empty.", "data": []}
        if scenario.permissive:
            return None
        if key != scenario.api_key:
            return 401, {"code": "50111", "msg": "Invalid OK-ACCESS-KEY.", "data": []}
        if request.headers.get("OK-ACCESS-PASSPHRASE") != scenario.passphrase:
            return 401, {"code": "50105", "msg": "Your OK-ACCESS-PASSPHRASE is incorrect.", "data": []}
        prehash = stamp + request.method + path + (f"?{query}" if query else "") + body.decode()
        expected = base64.b64encode(_hmac(scenario.api_secret.encode(), prehash.encode())).decode()
        if not hmac.compare_digest(expected, sign):
            return 401, {"code": "50113", "msg": "Invalid Sign", "data": []}
        return None

    def builtin(self, scenario: Scenario, path: str, query: dict[str, str]) -> Body | None:
        if path == "/api/v5/public/instruments":
            return _okx(markets_file("okx").get(query.get("instType", ""), []))
        if path == "/api/v5/market/tickers":
            return _okx([_okx_ticker(symbol, price) for symbol, price in scenario.prices.items()])
        return None

    def not_found(self, path: str) -> Reply:
        return 404, {"code": "50000", "msg": f"fake okx: no route {path}", "data": []}


def _okx(data: list[Any]) -> dict[str, Any]:
    return {"code": "0", "msg": "", "data": data}


def _okx_ticker(symbol: str, price: str) -> dict[str, Any]:
    return {"instType": "SPOT", "instId": symbol.replace("/", "-"), "last": price, "lastSz": "1", "askPx": price,
            "askSz": "1", "bidPx": price, "bidSz": "1", "open24h": price, "high24h": price, "low24h": price,
            "volCcy24h": "0", "vol24h": "0", "ts": "1714953599000", "sodUtc0": price, "sodUtc8": price}


class BybitAdapter(Adapter):
    """Bybit v5: X-BAPI-SIGN = hex HMAC-SHA256(secret, timestamp + apiKey + recvWindow + query|body)."""

    name = "bybit"

    def public(self, path: str) -> bool:
        return path.startswith("/v5/market/")

    def verify(self, scenario: Scenario, request: Request, path: str, query: str, body: bytes) -> Reply | None:
        key, sign = request.headers.get("X-BAPI-API-KEY"), request.headers.get("X-BAPI-SIGN")
        stamp, window = request.headers.get("X-BAPI-TIMESTAMP", ""), request.headers.get("X-BAPI-RECV-WINDOW", "")
        if not key or not sign:
            return 200, _bybit_error(10003, "API key is invalid.")
        if scenario.permissive:
            return None
        if key != scenario.api_key:
            return 200, _bybit_error(10003, "API key is invalid.")
        payload = stamp + key + window + (body.decode() if request.method == "POST" else query)
        if not hmac.compare_digest(_hmac(scenario.api_secret.encode(), payload.encode()).hex(), sign):
            return 200, _bybit_error(10004, "error sign! origin_string[<omitted>]")
        return None

    def builtin(self, scenario: Scenario, path: str, query: dict[str, str]) -> Body | None:
        category = query.get("category", "")
        if path == "/v5/market/instruments-info":
            return _bybit({"category": category, "list": markets_file("bybit").get(category, []),
                           "nextPageCursor": ""})
        if path == "/v5/market/tickers":
            rows = [_bybit_ticker(symbol, price) for symbol, price in scenario.prices.items()]
            return _bybit({"category": category, "list": rows if category == "spot" else []})
        return None

    def not_found(self, path: str) -> Reply:
        return 404, _bybit_error(10001, f"fake bybit: no route {path}")


def _bybit(result: Any) -> dict[str, Any]:
    return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": 1714953599000}


def _bybit_error(code: int, message: str) -> dict[str, Any]:
    return {"retCode": code, "retMsg": message, "result": {}, "retExtInfo": {}, "time": 1714953599000}


def _bybit_ticker(symbol: str, price: str) -> dict[str, Any]:
    return {"symbol": symbol.replace("/", ""), "bid1Price": price, "bid1Size": "1", "ask1Price": price,
            "ask1Size": "1", "lastPrice": price, "prevPrice24h": price, "price24hPcnt": "0", "highPrice24h": price,
            "lowPrice24h": price, "turnover24h": "0", "volume24h": "0"}


class KrakenAdapter(Adapter):
    """Kraken: API-Sign = base64(HMAC-SHA512(b64decode(secret), path + SHA256(nonce + postdata)))."""

    name = "kraken"
    # documented body parameters per private endpoint (docs.kraken.com/api-reference), besides nonce/otp
    PARAMS = {"/0/private/BalanceEx": set(), "/0/private/GetApiKeyInfo": set(),
              "/0/private/OpenPositions": {"txid", "docalcs", "consolidation", "rebase_multiplier"},
              "/0/private/DepositStatus": {"asset", "aclass", "method", "start", "end", "cursor", "limit"},
              "/0/private/WithdrawStatus": {"asset", "aclass", "method", "start", "end", "cursor", "limit"}}

    def __init__(self) -> None:
        self.last_nonce: dict[str, int] = {}

    def public(self, path: str) -> bool:
        return path.startswith("/0/public/")

    def verify(self, scenario: Scenario, request: Request, path: str, query: str, body: bytes) -> Reply | None:
        key, sign = request.headers.get("API-Key"), request.headers.get("API-Sign")
        if not key or not sign:
            return 200, {"error": ["EAPI:Invalid key"]}
        if scenario.permissive:
            return None
        if key != scenario.api_key:
            return 200, {"error": ["EAPI:Invalid key"]}
        form = dict(parse_qsl(body.decode()))
        nonce = form.get("nonce", "")
        digest = hashlib.sha256(nonce.encode() + body).digest()
        try:
            secret = base64.b64decode(scenario.api_secret)
        except ValueError:
            return 200, {"error": ["EAPI:Invalid key"]}
        expected = base64.b64encode(_hmac(secret, path.encode() + digest, hashlib.sha512)).decode()
        if not hmac.compare_digest(expected, sign):
            return 200, {"error": ["EAPI:Invalid key"]}  # kraken docs: also for a bad signature
        # kraken: each nonce must exceed the key's last one (no nonce window on these keys)
        if not nonce.isdigit() or int(nonce) <= self.last_nonce.get(key, -1):
            return 200, {"error": ["EAPI:Invalid nonce"]}
        self.last_nonce[key] = int(nonce)
        allowed = self.PARAMS.get(path)
        if allowed is not None and not set(form) <= allowed | {"nonce", "otp"}:
            return 200, {"error": ["EGeneral:Invalid arguments"]}
        if form.get("docalcs", "true") not in ("true", "false"):
            return 200, {"error": ["EGeneral:Invalid arguments:docalcs"]}
        return None

    def builtin(self, scenario: Scenario, path: str, query: dict[str, str]) -> Body | None:
        if path in ("/0/public/AssetPairs", "/0/public/Assets"):
            return markets_file("kraken")[path.rsplit("/", 1)[1]]
        if path == "/0/public/Ticker":
            pairs = markets_file("kraken")["AssetPairs"]["result"]
            by_ws = {row["wsname"].replace("XBT", "BTC"): pair_id for pair_id, row in pairs.items()}
            return {"error": [], "result": {by_ws[s]: _kraken_ticker(p) for s, p in scenario.prices.items()
                                            if s in by_ws}}
        return None


def _kraken_ticker(price: str) -> dict[str, Any]:
    return {"a": [price, "1", "1.000"], "b": [price, "1", "1.000"], "c": [price, "0.1"], "v": ["0", "0"],
            "p": [price, price], "t": [1, 1], "l": [price, price], "h": [price, price], "o": price}


class CoinbaseAdapter(Adapter):
    """Coinbase (legacy key): CB-ACCESS-SIGN = hex HMAC-SHA256(secret, ts + METHOD + path [+ ?query on v2] + body).

    CDP (JWT) keys are detected by ccxt from the secret's form; this fake checks the HMAC scheme only.
    """

    name = "coinbase"

    def public(self, path: str) -> bool:
        return path.startswith(("/api/v3/brokerage/market/", "/v2/currencies", "/v2/exchange-rates"))

    def verify(self, scenario: Scenario, request: Request, path: str, query: str, body: bytes) -> Reply | None:
        unauthorized = 401, {"errors": [{"id": "authentication_error", "message": "invalid signature"}]}
        key, sign, stamp = (request.headers.get(h) for h in ("CB-ACCESS-KEY", "CB-ACCESS-SIGN", "CB-ACCESS-TIMESTAMP"))
        if not key or not sign or not stamp:
            return unauthorized
        if scenario.permissive:
            return None
        if key != scenario.api_key:
            return unauthorized
        signed_query = f"?{query}" if query and path.startswith("/v2/") else ""
        payload = stamp + request.method + path + signed_query + body.decode()
        if not hmac.compare_digest(_hmac(scenario.api_secret.encode(), payload.encode()).hex(), sign):
            return unauthorized
        return None

    def builtin(self, scenario: Scenario, path: str, query: dict[str, str]) -> Body | None:
        data = markets_file("coinbase")
        simple = {"/v2/currencies": "currencies", "/v2/currencies/crypto": "crypto",
                  "/v2/exchange-rates": "exchange_rates"}
        if path in simple:
            return data[simple[path]]
        if path == "/api/v3/brokerage/market/products":
            if query.get("product_type", "SPOT") != "SPOT":
                return {"products": [], "num_products": 0}  # no futures/perps listed in this replica
            rows = [_coinbase_product(pid, base, quote, scenario.prices.get(f"{base}/{quote}", ""))
                    for pid, base, quote in data["products"]]
            return {"products": rows, "num_products": len(rows)}
        if path == "/api/v3/brokerage/transaction_summary":  # fee tier, read by ccxt's fetchMarketsV3
            return {"total_volume": 0, "total_fees": 0, "fee_tier": {
                "pricing_tier": "Advanced 1", "usd_from": "0", "usd_to": "10000", "taker_fee_rate": "0.006",
                "maker_fee_rate": "0.004"}, "margin_rate": None, "goods_and_services_tax": None,
                "advanced_trade_only_volume": 0, "advanced_trade_only_fees": 0, "coinbase_pro_volume": 0,
                "coinbase_pro_fees": 0}
        return None


def _coinbase_product(product_id: str, base: str, quote: str, price: str) -> dict[str, Any]:
    return {"product_id": product_id, "price": price, "price_percentage_change_24h": "0", "volume_24h": "0",
            "volume_percentage_change_24h": "0", "base_increment": "0.00000001", "quote_increment": "0.0001",
            "quote_min_size": "1", "quote_max_size": "150000000", "base_min_size": "0.00000001",
            "base_max_size": "3400", "base_name": base, "quote_name": quote, "watched": False,
            "is_disabled": False, "new": False, "status": "online", "cancel_only": False, "limit_only": False,
            "post_only": False, "trading_disabled": False, "auction_mode": False, "product_type": "SPOT",
            "quote_currency_id": quote, "base_currency_id": base, "fcm_trading_session_details": None,
            "mid_market_price": "", "alias": "", "alias_to": [], "base_display_symbol": base,
            "quote_display_symbol": quote, "view_only": False, "price_increment": "0.0001",
            "display_name": product_id, "product_venue": "CBE"}


ADAPTERS: dict[str, Callable[[], Adapter]] = {
    "coinbase": CoinbaseAdapter,
    "kraken": KrakenAdapter,
    "bybit": BybitAdapter,
    "okx": OkxAdapter,
    "binance": BinanceAdapter, "binanceusdm": BinanceAdapter, "binancecoinm": BinanceAdapter,
}


def adapter_for(venue: str) -> Adapter:
    """The venue's adapter: one of the five above, or `ADAPTER` of `tests/fakes/venues/<venue>.py`."""
    if venue in ADAPTERS:
        return ADAPTERS[venue]()
    from tests.fakes.venues import venue_modules  # the venue modules import this one

    module = venue_modules().get(venue)
    if module is None:
        raise KeyError(f"no fake for venue {venue!r}")
    adapter: Adapter = module.ADAPTER()
    return adapter


# -- the server -----------------------------------------------------------------------------------


@dataclass
class FakeVenue:
    venue: str
    scenario: Scenario
    base_url: str = ""
    requests: list[tuple[str, str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)

    def paths(self) -> list[str]:
        return [path for _, path in self.requests]


def build_app(fake: FakeVenue, adapter: Adapter) -> Starlette:
    async def handle(request: Request) -> Response:
        path = request.url.path
        query = request.url.query
        body = await request.body()
        fake.requests.append((request.method, path))
        status, payload = _answer(fake.scenario, adapter, request, path, query, body)
        if status == 404:
            fake.unknown.append(f"{request.method} {path}")
        return JSONResponse(payload, status_code=status)

    return Starlette(routes=[Route("/{path:path}", handle, methods=["GET", "POST", "DELETE", "PUT"])])


def _answer(scenario: Scenario, adapter: Adapter, request: Request, path: str, query: str, body: bytes) -> Reply:
    if not adapter.public(path):
        refused = adapter.verify(scenario, request, path, query, body)
        if refused is not None:
            return refused
    params = dict(parse_qsl(query))
    if body and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        params.update(parse_qsl(body.decode()))
    for key in (f"{request.method} {path}", path):
        if key in scenario.responses:
            value = scenario.responses[key]
            try:
                return 200, value(params) if callable(value) else value
            except VenueRefusal as refusal:
                return refusal.status, refusal.body
    built = adapter.builtin(scenario, path, params)
    if built is not None:
        return 200, built
    return adapter.not_found(path)


def start_fake_venue(venue: str, scenario: Scenario) -> FakeVenue:
    """Serve `scenario` on 127.0.0.1:<ephemeral> in a background thread; returns once listening."""
    fake = FakeVenue(venue, scenario)
    config = uvicorn.Config(build_app(fake, adapter_for(venue)), host="127.0.0.1", port=0,
                            log_level="warning", access_log=False, lifespan="off", backlog=4096)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"fake-{venue}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"fake {venue} did not start")
        time.sleep(0.005)
    port = server.servers[0].sockets[0].getsockname()[1]
    fake.base_url, fake._server, fake._thread = f"http://127.0.0.1:{port}", server, thread
    return fake


@contextmanager
def fake_venue(venue: str, scenario: Scenario) -> Iterator[FakeVenue]:
    fake = start_fake_venue(venue, scenario)
    try:
        yield fake
    finally:
        fake.stop()


def run_forever(venue: str, scenario: Scenario) -> None:  # pragma: no cover - manual benchmarking aid
    fake = start_fake_venue(venue, scenario)
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        fake.stop()


# -- scenario builders (venue formats; defaults so a benchmark only states balances) ---------------


_TIME_FIELDS = ("time", "insertTime", "applyTime", "completeTime")


def _row_ms(row: dict[str, Any]) -> int | None:
    for key in _TIME_FIELDS:
        value = row.get(key)
        if value is None:
            continue
        text = str(value)
        if text.isdigit():
            return int(text)
        parsed = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)  # binance applyTime
        return int(parsed.timestamp() * 1000)
    return None


HOUR_MS = 3_600_000


def _binance_list(
    rows: list[dict[str, Any]], *match: str, max_range_ms: int | None = None, paged: bool = False
) -> Callable[[dict[str, str]], Body]:
    """History endpoints: the venue filters by startTime/endTime and by the given query fields, and refuses
    a range wider than the endpoint allows, as binance does (-1127)."""

    def answer(query: dict[str, str]) -> Body:
        start, end = int(query.get("startTime", 0)), int(query.get("endTime", 2**62))
        if start > end:
            raise VenueRefusal(400, {"code": -1102, "msg": "startTime must be less than endTime."})
        if max_range_ms is not None and "startTime" in query and "endTime" in query and end - start > max_range_ms:
            hours = max_range_ms // HOUR_MS
            raise VenueRefusal(400, {"code": -1127, "msg": f"More than {hours} hours between startTime and endTime."})
        out = []
        for row in rows:
            ms = _row_ms(row)
            if ms is not None and not start <= ms <= end:
                continue
            if any(key in query and str(row.get(key)) != query[key] for key in match):
                continue
            out.append(row)
        if paged:  # deposit/withdrawal history: newest first, `offset` and `limit` (default and max 1,000)
            limit = int(query.get("limit", 1000))
            if not 1 <= limit <= 1000:
                raise VenueRefusal(400, {"code": -1130, "msg": "Data sent for parameter 'limit' is not valid."})
            offset = int(query.get("offset", 0))
            out = sorted(out, key=lambda row: _row_ms(row) or 0, reverse=True)[offset:offset + limit]
        return out

    return answer


def _binance_fiat(rows: list[dict[str, Any]]) -> Callable[[dict[str, str]], Body]:
    """GET /sapi/v1/fiat/orders and /payments: transactionType (mandatory), beginTime/endTime on createTime,
    page (from 1) and rows (default 100, at most 500); body {code, message, data, total, success}."""

    def answer(query: dict[str, str]) -> Body:
        if query.get("transactionType") not in ("0", "1"):
            raise VenueRefusal(400, {"code": -1102, "msg": "Mandatory parameter 'transactionType' was not sent."})
        begin, end = int(query.get("beginTime", 0)), int(query.get("endTime", 2**62))
        if begin > end:
            raise VenueRefusal(400, {"code": -1102, "msg": "beginTime must be less than endTime."})
        size, page = int(query.get("rows", 100)), int(query.get("page", 1))
        if not 1 <= size <= 500:
            raise VenueRefusal(400, {"code": -1100, "msg": "Illegal characters found in parameter 'rows'."})
        wanted = [row for row in rows if row["transactionType"] == query["transactionType"]
                  and begin <= int(row["createTime"]) <= end]
        data = [{k: v for k, v in row.items() if k != "transactionType"}
                for row in wanted[(page - 1) * size:page * size]]
        return {"code": "000000", "message": "success", "data": data, "total": len(wanted), "success": True}

    return answer


def binance_scenario(
    balances: dict[str, dict[str, str]] | None = None,
    prices: dict[str, str] | None = None,
    *,
    trades: dict[str, list[dict[str, Any]]] | None = None,
    deposits: list[dict[str, Any]] | None = None,
    withdrawals: list[dict[str, Any]] | None = None,
    income: dict[str, list[dict[str, Any]]] | None = None,
    positions: dict[str, list[dict[str, Any]]] | None = None,
    restrictions: dict[str, Any] | None = None,
    fiat_orders: list[dict[str, Any]] | None = None,
    fiat_payments: list[dict[str, Any]] | None = None,
    **credentials: Any,
) -> Scenario:
    """balances: wallet ('spot', 'funding', 'margin', 'usdm', 'coinm', 'earn') -> asset -> amount.
    usdm/coinm amounts are margin balances (wallet balance incl. unrealized PnL).
    fiat_orders / fiat_payments: rows of binance's fiat history plus "transactionType" ("0" or "1")."""
    bal = balances or {}
    trades, income, positions = trades or {}, income or {}, positions or {}
    account = fixture("binance", "fetchBalance", 0)
    account["balances"] = [{"asset": a, "free": v, "locked": "0.00000000"} for a, v in bal.get("spot", {}).items()]
    usdm = fixture("binance", "fetchBalance", 1)
    usdm["assets"] = [_binance_futures_asset(a, v) for a, v in bal.get("usdm", {}).items()]
    responses: dict[str, Any] = {
        "/api/v3/account": account,
        "POST /sapi/v1/asset/get-funding-asset": [
            {"asset": a, "free": v, "locked": "0", "freeze": "0", "withdrawing": "0", "btcValuation": "0"}
            for a, v in bal.get("funding", {}).items()],
        "/sapi/v1/margin/account": {
            "borrowEnabled": True, "marginLevel": "999.00000000", "totalAssetOfBtc": "0", "tradeEnabled": True,
            "totalLiabilityOfBtc": "0", "totalNetAssetOfBtc": "0", "transferEnabled": True,
            "userAssets": [{"asset": a, "borrowed": "0", "free": v, "interest": "0", "locked": "0", "netAsset": v}
                           for a, v in bal.get("margin", {}).items()]},
        "/fapi/v3/account": usdm,
        "/dapi/v1/account": {"assets": [_binance_futures_asset(a, v) for a, v in bal.get("coinm", {}).items()],
                             "canDeposit": True, "canTrade": True, "canWithdraw": True, "feeTier": 0,
                             "updateTime": 0},
        "/sapi/v1/simple-earn/flexible/position": {
            "rows": [{"asset": a, "totalAmount": v, "latestAnnualPercentageRate": "0.01", "canRedeem": True,
                      "productId": f"{a}001"} for a, v in bal.get("earn", {}).items()],
            "total": len(bal.get("earn", {}))},
        "/sapi/v1/simple-earn/locked/position": {"rows": [], "total": 0},
        # Range limits from binance's API documentation: spot/margin trades 24 h, futures trades 7 days,
        # deposit and withdrawal history 90 days.
        "/api/v3/myTrades": _binance_list(trades.get("spot", []), "symbol", max_range_ms=24 * HOUR_MS),
        "/sapi/v1/margin/myTrades": _binance_list(trades.get("margin", []), "symbol", max_range_ms=24 * HOUR_MS),
        "/fapi/v1/userTrades": _binance_list(trades.get("usdm", []), "symbol", max_range_ms=7 * 24 * HOUR_MS),
        "/dapi/v1/userTrades": _binance_list(trades.get("coinm", []), "symbol", max_range_ms=7 * 24 * HOUR_MS),
        "/fapi/v1/income": _binance_list(income.get("usdm", []), "incomeType", "symbol"),
        "/dapi/v1/income": _binance_list(income.get("coinm", []), "incomeType", "symbol"),
        "/fapi/v3/positionRisk": positions.get("usdm", []),
        "/dapi/v1/positionRisk": positions.get("coinm", []),
        "/sapi/v1/capital/deposit/hisrec": _binance_list(deposits or [], max_range_ms=90 * 24 * HOUR_MS,
                                                         paged=True),
        "/sapi/v1/capital/withdraw/history": _binance_list(withdrawals or [], max_range_ms=90 * 24 * HOUR_MS,
                                                           paged=True),
        "/sapi/v1/fiat/orders": _binance_fiat(fiat_orders or []),
        "/sapi/v1/fiat/payments": _binance_fiat(fiat_payments or []),
        "/fapi/v1/leverageBracket": [_binance_brackets("BTCUSDT")],
        "/dapi/v2/leverageBracket": [_binance_brackets("BTCUSD")],
        "/sapi/v1/account/apiRestrictions": restrictions or {
            "ipRestrict": False, "createTime": 1698645219000, "enableReading": True, "enableWithdrawals": False,
            "enableInternalTransfer": False, "enableMargin": False, "enableFutures": False,
            "permitsUniversalTransfer": False, "enableVanillaOptions": False, "enableFixApiTrade": False,
            "enableFixReadOnly": False, "enableSpotAndMarginTrading": False,
            "enablePortfolioMarginTrading": False},
    }
    return Scenario(responses=responses, prices=prices or {}, **credentials)


def _binance_brackets(symbol: str) -> dict[str, Any]:
    return {"symbol": symbol, "brackets": [{"bracket": 1, "initialLeverage": 125, "notionalCap": 50000,
                                            "notionalFloor": 0, "maintMarginRatio": 0.004, "cum": 0.0}]}


def _binance_futures_asset(asset: str, margin_balance: str) -> dict[str, Any]:
    return {"asset": asset, "walletBalance": margin_balance, "unrealizedProfit": "0.00000000",
            "marginBalance": margin_balance, "maintMargin": "0", "initialMargin": "0",
            "positionInitialMargin": "0", "openOrderInitialMargin": "0", "maxWithdrawAmount": margin_balance,
            "crossWalletBalance": margin_balance, "crossUnPnl": "0", "availableBalance": margin_balance,
            "marginAvailable": True, "updateTime": 0}


def _okx_history(rows: list[dict[str, Any]], id_field: str, *, time_cursor: bool,
                 match: tuple[str, ...] = ()) -> Callable[[dict[str, str]], Body]:
    """okx v5 history: newest first, `limit` default 100 and at most 100 (more is refused, 51000).
    Time-cursor endpoints (deposit/withdrawal history): `after`/`before` are exclusive ts bounds.
    Id-cursor endpoints (bills, fills): `begin`/`end` inclusive ts bounds, `after`/`before` exclusive
    ids. Rows are matched on the given query fields (instType, type, ...)."""

    def answer(query: dict[str, str]) -> Body:
        limit = int(query.get("limit", 100))
        if not 1 <= limit <= 100:
            raise VenueRefusal(200, {"code": "51000", "msg": "Parameter limit error", "data": []})
        out = sorted(rows, key=lambda r: (int(r["ts"]), int(r[id_field])), reverse=True)
        out = [r for r in out if all(key not in query or str(r.get(key)) == query[key] for key in match)]
        if time_cursor:
            out = [r for r in out if ("after" not in query or int(r["ts"]) < int(query["after"]))
                   and ("before" not in query or int(r["ts"]) > int(query["before"]))]
        else:
            out = [r for r in out if int(query.get("begin", 0)) <= int(r["ts"]) <= int(query.get("end", 2**62))
                   and ("after" not in query or int(r[id_field]) < int(query["after"]))
                   and ("before" not in query or int(r[id_field]) > int(query["before"]))]
        return _okx(out[:limit])

    return answer


def _okx_fiat_history(rows: list[dict[str, Any]]) -> Callable[[dict[str, str]], Body]:
    """GET /api/v5/fiat/deposit-order-history and withdrawal-order-history: `after`/`before` are an
    inclusive begin/end filter on the creation time `cTime` (not a cursor), `state` filters, `limit`
    default and at most 100, newest first."""

    def answer(query: dict[str, str]) -> Body:
        limit = int(query.get("limit", 100))
        if not 1 <= limit <= 100:
            raise VenueRefusal(200, {"code": "51000", "msg": "Parameter limit error", "data": []})
        out = [r for r in rows if int(query.get("after", 0)) <= int(r["cTime"]) <= int(query.get("before", 2**62))
               and ("state" not in query or r["state"] == query["state"])]
        return _okx(sorted(out, key=lambda r: (int(r["cTime"]), r["ordId"]), reverse=True)[:limit])

    return answer


def okx_scenario(
    trading: dict[str, str] | None = None,
    prices: dict[str, str] | None = None,
    *,
    funding: dict[str, str] | None = None,
    fills: list[dict[str, Any]] | None = None,
    deposits: list[dict[str, Any]] | None = None,
    withdrawals: list[dict[str, Any]] | None = None,
    bills: list[dict[str, Any]] | None = None,
    savings: dict[str, str] | None = None,
    staking: list[dict[str, Any]] | None = None,
    fiat_deposits: list[dict[str, Any]] | None = None,
    fiat_withdrawals: list[dict[str, Any]] | None = None,
    perm: str = "read_only",
    **credentials: Any,
) -> Scenario:
    """trading: unified account `eq` per coin (incl. unrealized PnL); funding: funding account `bal`;
    savings: Simple Earn `amt` per coin; staking: finance/staking-defi/orders-active rows;
    fiat_deposits / fiat_withdrawals: fiat order history rows (ordId, ccy, amt, fee, state, cTime, uTime).
    fills/bills need a numeric `billId`, deposits `depId`, withdrawals `wdId` (okx ids are digits)."""
    credentials.setdefault("passphrase", "test-passphrase")
    details = [{"ccy": c, "eq": v, "cashBal": v, "availBal": v, "frozenBal": "0", "availEq": v, "upl": "0",
                "eqUsd": "", "disEq": v, "uTime": "1714953599000"} for c, v in (trading or {}).items()]

    def by_inst_type(rows: list[dict[str, Any]]) -> Callable[[dict[str, str]], Body]:
        return lambda q: _okx([r for r in rows if r.get("instType") == q.get("instType", r.get("instType"))])

    responses: dict[str, Any] = {
        "/api/v5/account/balance": _okx([{"totalEq": "", "uTime": "1714953599000", "details": details}]),
        "/api/v5/asset/balances": _okx([{"ccy": c, "bal": v, "availBal": v, "frozenBal": "0"}
                                        for c, v in (funding or {}).items()]),
        "/api/v5/account/positions": _okx([]),
        "/api/v5/trade/fills-history": _okx_history(fills or [], "billId", time_cursor=False, match=("instType",)),
        "/api/v5/trade/fills": by_inst_type(fills or []),
        "/api/v5/asset/deposit-history": _okx_history(deposits or [], "depId", time_cursor=True),
        "/api/v5/asset/withdrawal-history": _okx_history(withdrawals or [], "wdId", time_cursor=True),
        "/api/v5/account/bills": _okx_history(bills or [], "billId", time_cursor=False, match=("type",)),
        "/api/v5/account/bills-archive": _okx_history(bills or [], "billId", time_cursor=False, match=("type",)),
        "/api/v5/finance/savings/balance": _okx([
            {"ccy": c, "amt": v, "earnings": "0", "rate": "0.01", "loanAmt": v, "pendingAmt": "0", "redemptAmt": ""}
            for c, v in (savings or {}).items()]),
        "/api/v5/finance/staking-defi/orders-active": _okx(staking or []),
        "/api/v5/fiat/deposit-order-history": _okx_fiat_history(fiat_deposits or []),
        "/api/v5/fiat/withdrawal-order-history": _okx_fiat_history(fiat_withdrawals or []),
        "/api/v5/account/config": _okx([{"uid": "44705892343619584", "mainUid": "44705892343619584",
                                         "acctLv": "2", "posMode": "long_short_mode", "perm": perm,
                                         "label": "zka", "ip": ""}]),
    }
    return Scenario(responses=responses, prices=prices or {}, **credentials)


def _bybit_cursor(rows: list[dict[str, Any]], key: str, time_field: str, *, max_limit: int, default_limit: int,
                  max_range_ms: int) -> Callable[[dict[str, str], Callable[[dict[str, Any]], bool] | None], Body]:
    """bybit v5 history: startTime/endTime (inclusive, at most `max_range_ms` apart, else 10001), newest
    first, `limit` up to `max_limit`, then `cursor` = the previous page's `nextPageCursor` ("" on the last
    page). The cursor is opaque to the client; here it is an offset."""

    def answer(query: dict[str, str], match: Callable[[dict[str, Any]], bool] | None) -> Body:
        limit = int(query.get("limit", default_limit))
        start, end = int(query.get("startTime", 0)), int(query.get("endTime", 2**62))
        if not 1 <= limit <= max_limit or start > end or (
                "startTime" in query and "endTime" in query and end - start > max_range_ms):
            raise VenueRefusal(200, _bybit_error(10001, "params error"))
        wanted = sorted((r for r in rows if start <= int(r[time_field]) <= end and (match is None or match(r))),
                        key=lambda r: int(r[time_field]), reverse=True)
        offset = int(query.get("cursor") or 0)
        following = str(offset + limit) if offset + limit < len(wanted) else ""
        # ccxt's recorded rows carry the cursor it copies into a row's info; bybit's rows never do ("_ms":
        # the fake's own time key)
        hidden = ("nextPageCursor", "_ms")
        page = [{k: v for k, v in r.items() if k not in hidden} for r in wanted[offset:offset + limit]]
        body: dict[str, Any] = {key: page, "nextPageCursor": following}
        if "category" in query:
            body["category"] = query["category"]
        return _bybit(body)

    return answer


def bybit_scenario(
    unified: dict[str, str] | None = None,
    prices: dict[str, str] | None = None,
    *,
    funding: dict[str, str] | None = None,
    executions: list[dict[str, Any]] | None = None,
    deposits: list[dict[str, Any]] | None = None,
    withdrawals: list[dict[str, Any]] | None = None,
    internal_deposits: list[dict[str, Any]] | None = None,
    api_permissions: dict[str, list[str]] | None = None,
    read_only: int = 1,
    earn: dict[str, dict[str, str]] | None = None,
    positions: dict[str, list[dict[str, Any]]] | None = None,
    **credentials: Any,
) -> Scenario:
    """unified: coin -> `equity` (wallet balance + unrealized PnL) of the unified trading account.
    positions: category ('linear', 'inverse') -> /v5/position/list rows (`unrealisedPnl` in the settle coin)."""
    coins = [{"coin": c, "equity": v, "walletBalance": v, "usdValue": "", "unrealisedPnl": "0", "locked": "0",
              "borrowAmount": "0", "accruedInterest": "0", "totalPositionIM": "0", "totalOrderIM": "0",
              "availableToWithdraw": v} for c, v in (unified or {}).items()]
    rows = executions or []
    markets = markets_file("bybit")

    def position_list(query: dict[str, str]) -> Body:
        """GET /v5/position/list: linear needs `symbol` or `settleCoin` (bybit: 10001); inverse lists all;
        `limit` at most 200."""
        category = query.get("category", "")
        if category not in ("linear", "inverse", "option") or not 1 <= int(query.get("limit", 20)) <= 200:
            raise VenueRefusal(200, _bybit_error(10001, "params error"))
        if category == "linear" and not (query.get("symbol") or query.get("settleCoin") or query.get("baseCoin")):
            raise VenueRefusal(200, _bybit_error(10001, "symbol or settleCoin is required"))
        settle = {m["symbol"]: m["settleCoin"] for m in markets.get(category, [])}
        wanted = [r for r in (positions or {}).get(category, [])
                  if query.get("symbol", r["symbol"]) == r["symbol"]
                  and query.get("settleCoin", settle.get(r["symbol"])) == settle.get(r["symbol"])]
        return _bybit({"category": category, "list": wanted, "nextPageCursor": ""})

    # deposit/withdrawal records: `limit` at most 50, startTime..endTime at most 30 days
    deposit_page = _bybit_cursor(deposits or [], "rows", "successAt", max_limit=50, default_limit=50,
                                 max_range_ms=30 * 24 * HOUR_MS)
    withdrawal_page = _bybit_cursor(withdrawals or [], "rows", "createTime", max_limit=50, default_limit=50,
                                    max_range_ms=30 * 24 * HOUR_MS)
    # internal (off-chain) deposits: `createdTime` in seconds as in bybit's example; the fake filters on it
    internal = [{**r, "_ms": int(r["createdTime"]) * 1000} for r in internal_deposits or []]
    internal_page = _bybit_cursor(internal, "rows", "_ms", max_limit=50, default_limit=50,
                                  max_range_ms=30 * 24 * HOUR_MS)
    executions_page = _bybit_cursor(rows, "list", "execTime", max_limit=100, default_limit=50,
                                    max_range_ms=7 * 24 * HOUR_MS)

    def execution_list(query: dict[str, str]) -> Body:
        return executions_page(query, lambda r: r.get("category") == query.get("category")
                               and r.get("execType", "Trade") == query.get("execType", "Trade"))

    key_info = {"id": "13770661", "note": "zka", "apiKey": credentials.get("api_key", "test-api-key-0001"),
                "readOnly": read_only, "secret": "", "permissions": api_permissions or {
                    "ContractTrade": [], "Spot": [], "Wallet": ["AccountTransfer"], "Options": [],
                    "Derivatives": [], "CopyTrading": [], "BlockTrade": [], "Exchange": [], "NFT": []},
                "ips": ["*"], "type": 1, "deadlineDay": 83, "expiredAt": "2024-12-31T00:00:00Z",
                "createdAt": "2024-01-01T00:00:00Z", "unified": 0, "uta": 1, "userID": 24600000,
                "inviterID": 0, "vipLevel": "No VIP", "mktMakerLevel": "0", "affiliateID": 0}
    responses: dict[str, Any] = {
        "/v5/user/query-api": _bybit(key_info),
        "/v5/account/info": _bybit({"unifiedMarginStatus": 6, "marginMode": "REGULAR_MARGIN", "isMasterTrader": False,
                                    "spotHedgingStatus": "OFF", "updatedTime": "1714953599000", "dcpStatus": "OFF",
                                    "timeWindow": 10, "smpGroup": 0}),
        "/v5/account/wallet-balance": _bybit({"list": [{"accountType": "UNIFIED", "totalEquity": "",
                                                        "coin": coins}]}),
        "/v5/asset/transfer/query-account-coins-balance": _bybit({"accountType": "FUND", "memberId": "1", "balance": [
            {"coin": c, "walletBalance": v, "transferBalance": v, "bonus": "0"} for c, v in (funding or {}).items()]}),
        "/v5/position/list": position_list,
        "/v5/execution/list": execution_list,
        "/v5/asset/deposit/query-record": lambda q: deposit_page(q, None),
        "/v5/asset/withdraw/query-record": lambda q: withdrawal_page(q, None),
        "/v5/asset/deposit/query-internal-record": lambda q: internal_page(q, None),
        # GET /v5/earn/position?category=FlexibleSaving|OnChain (bybit-exchange.github.io/docs/v5/earn/position)
        "/v5/earn/position": lambda q: _bybit({"list": [
            {"coin": c, "productId": f"{c}-{q.get('category')}", "amount": v, "totalPnl": "0", "claimableYield": "0",
             "id": "", "status": "Active", "orderId": "", "estimateRedeemTime": "", "estimateStakeTime": "",
             "estimateInterestCalculationTime": "", "settlementTime": ""}
            for c, v in (earn or {}).get(q.get("category", ""), {}).items()]}),
    }
    return Scenario(responses=responses, prices=prices or {}, **credentials)


def _kraken_movements(rows: list[dict[str, Any]], key: str) -> Callable[[dict[str, str]], Body]:
    """POST /0/private/DepositStatus and WithdrawStatus: `start`/`end` (seconds, inclusive) filter `time`,
    newest first. Without `cursor` kraken answers the newest 25 as a list and drops the rest; with
    `cursor=true` (then the previous `next_cursor`) it pages `limit` (default 25) rows a time in
    `{key: [...], "next_cursor": ...}`, with no `next_cursor` on the last page."""

    def answer(query: dict[str, str]) -> Body:
        start, end = float(query.get("start", 0)), float(query.get("end", 2**62))  # ccxt sends decimals
        wanted = sorted((r for r in rows if start <= int(r["time"]) <= end), key=lambda r: int(r["time"]),
                        reverse=True)
        limit = int(query.get("limit", 25))
        if "cursor" not in query or query["cursor"] == "false":
            return {"error": [], "result": wanted[:25]}
        offset = 0 if query["cursor"] == "true" else int(query["cursor"].removeprefix("page-"))
        result: dict[str, Any] = {key: wanted[offset:offset + limit]}
        if offset + limit < len(wanted):
            result["next_cursor"] = f"page-{offset + limit}"
        return {"error": [], "result": result}

    return answer


def kraken_scenario(
    balances: dict[str, str] | None = None,
    prices: dict[str, str] | None = None,
    *,
    trades: dict[str, dict[str, Any]] | None = None,
    positions: list[dict[str, Any]] | None = None,
    deposits: list[dict[str, Any]] | None = None,
    withdrawals: list[dict[str, Any]] | None = None,
    key_permissions: list[str] | None = None,
    **credentials: Any,
) -> Scenario:
    """key_permissions: GetApiKeyInfo `permissions` (default query-only: query-funds, query-open-trades,
    query-closed-trades, query-ledger).
    positions: OpenPositions rows consolidated by market (ccxt asks consolidation=market).
    balances: kraken asset ids (XXBT, ZUSD, USDT, DOT.S ...) -> amount (BalanceEx `balance`)."""
    credentials.setdefault("api_secret", base64.b64encode(b"kraken-test-secret-bytes-0001").decode())
    responses: dict[str, Any] = {
        "POST /0/private/BalanceEx": {"error": [], "result": {
            asset: {"balance": amount, "hold_trade": "0"} for asset, amount in (balances or {}).items()}},
        "POST /0/private/OpenPositions": {"error": [], "result": positions or []},
        "POST /0/private/TradesHistory": {"error": [], "result": {"trades": trades or {},
                                                                   "count": len(trades or {})}},
        "POST /0/private/DepositStatus": _kraken_movements(deposits or [], "deposits"),
        "POST /0/private/WithdrawStatus": _kraken_movements(withdrawals or [], "withdrawals"),
        "POST /0/private/GetApiKeyInfo": {"error": [], "result": {
            "apiKeyName": "zka", "apiKey": credentials.get("api_key", "test-api-key-0001"), "nonce": "0",
            "nonceWindow": 0, "permissions": key_permissions if key_permissions is not None else [
                "query-funds", "query-open-trades", "query-closed-trades", "query-ledger"],
            "iban": "AA88 N84G WOAK NMOI", "validUntil": "0", "queryFrom": "0", "queryTo": "0",
            "createdTime": "1714867200", "modifiedTime": "1714867200", "ipAllowlist": [],
            "lastUsed": "1714953599"}},
    }
    return Scenario(responses=responses, prices=prices or {}, **credentials)


def _coinbase_v3_account(v2: dict[str, Any]) -> dict[str, Any]:
    code, amount = v2["balance"]["currency"], v2["balance"]["amount"]
    return {"uuid": v2["id"], "name": v2["name"], "currency": code,
            "available_balance": {"value": amount, "currency": code}, "default": v2.get("primary", False),
            "active": True, "created_at": v2["created_at"], "updated_at": v2["updated_at"], "deleted_at": None,
            "type": "ACCOUNT_TYPE_CRYPTO", "ready": True, "hold": {"value": "0", "currency": code},
            "retail_portfolio_id": "7e1bd1a2-0000-4c0a-b1a4-000000000000"}


def _coinbase_transactions(path: str, rows: list[dict[str, Any]]) -> Callable[[dict[str, str]], Body]:
    """GET /v2/accounts/:id/transactions: newest first (`created_at`), `limit` 1..100 (default 25), then
    `starting_after` = the last id of the previous page; `pagination.next_uri` (and
    `next_starting_after`) name the next page, null on the last. No time filter on the server."""

    def answer(query: dict[str, str]) -> Body:
        limit = int(query.get("limit", 25))
        if not 1 <= limit <= 100:
            raise VenueRefusal(400, {"errors": [{"id": "invalid_request", "message": "limit must be 1..100"}]})
        ordered = sorted(rows, key=lambda r: str(r["created_at"]), reverse=True)
        ids = [str(r["id"]) for r in ordered]
        offset = ids.index(query["starting_after"]) + 1 if query.get("starting_after") in ids else 0
        page = ordered[offset:offset + limit]
        following = str(page[-1]["id"]) if page and offset + limit < len(ordered) else None
        return {"data": page, "pagination": {
            "ending_before": None, "starting_after": query.get("starting_after"), "limit": str(limit),
            "order": "desc", "previous_uri": None, "previous_ending_before": None,
            "next_starting_after": following,
            "next_uri": f"{path}?limit={limit}&starting_after={following}" if following else None}}

    return answer


def coinbase_scenario(
    accounts: list[dict[str, Any]] | None = None,
    prices: dict[str, str] | None = None,
    *,
    fills: list[dict[str, Any]] | None = None,
    transactions: dict[str, list[dict[str, Any]]] | None = None,
    key_permissions: dict[str, Any] | None = None,
    **credentials: Any,
) -> Scenario:
    """accounts: /v2/accounts rows (fixture format); transactions: account id -> /v2/accounts/{id}/transactions rows;
    key_permissions: fields of GET /api/v3/brokerage/key_permissions over a view-only key."""
    rows = accounts or []
    responses: dict[str, Any] = {
        "/v2/accounts": {"data": rows, "pagination": {"ending_before": None, "limit": "250",
                                                      "next_starting_after": None, "next_uri": None,
                                                      "order": "desc", "previous_ending_before": None,
                                                      "previous_uri": None, "starting_after": None}},
        # ccxt's recorded fills carry the cursor it copies into a row; coinbase's rows never do
        "/api/v3/brokerage/orders/historical/fills": {
            "fills": [{k: v for k, v in row.items() if k != "cursor"} for row in fills or []], "cursor": ""},
        # docs.cdp.coinbase.com Advanced Trade "Get API Key Permissions"
        "/api/v3/brokerage/key_permissions": {"can_view": True, "can_trade": False, "can_transfer": False,
                                              "portfolio_uuid": "7e1bd1a2-0000-4c0a-b1a4-000000000000",
                                              "portfolio_type": "DEFAULT", **(key_permissions or {})},
        # ccxt finds the account of a currency through the v3 list before reading v2 transactions
        "/api/v3/brokerage/accounts": {"accounts": [_coinbase_v3_account(row) for row in rows],
                                       "has_next": False, "cursor": "", "size": len(rows)},
    }
    for account_id in {row["id"] for row in rows} | set(transactions or {}):
        path = f"/v2/accounts/{account_id}/transactions"
        responses[path] = _coinbase_transactions(path, (transactions or {}).get(account_id, []))
    return Scenario(responses=responses, prices=prices or {}, **credentials)


# -- test window shared by the ccxt connector tests: the day of the fixtures' deposit/withdrawal -------

WINDOW = DayWindow(datetime(2024, 5, 5, tzinfo=UTC), datetime(2024, 5, 6, tzinfo=UTC))
IN_WINDOW_MS = int(datetime(2024, 5, 5, 12, 0, tzinfo=UTC).timestamp() * 1000)
OUT_OF_WINDOW_MS = int(datetime(2024, 5, 4, 12, 0, tzinfo=UTC).timestamp() * 1000)


def venue_connector(
    venue: str, base_url: str, sc: Scenario, *, secret: str | None = None, passphrase: str | None = None,
    api_key: str | None = None, memory: Any = None, cache: dict[str, object] | None = None,
) -> Any:
    """zka's connector for `venue`, pointed at its fake: the scenario's credentials unless one is replaced
    (a wrong secret or passphrase, another address), a market cache of its own unless one is shared."""
    from app.connectors.ccxt_venue import create  # noqa: PLC0415 - keep the fake importable on its own

    creds = Credentials(api_key or sc.api_key, secret or sc.api_secret, passphrase or sc.passphrase)
    return create(venue, creds, ConnectorOptions(base_url=base_url, cache={} if cache is None else cache,
                                                 flow_memory=memory))


async def deposits_counted_daily(
    venue: str, sc: Scenario, changes: Mapping[int, Callable[[], object]], *, days: int = 6
) -> list[Decimal]:
    """The deposits counted by the connect fetch (day 0, window 05-05) and by the daily runs after it
    (05-06 ... 00:00), each remembering the flows the fetches before it counted, as the sync's flow memory
    does. `changes[day]()` moves the venue's records (a deposit completes) before that day's fetch."""
    memory = FlowMemory(b"k" * 32)
    counted: list[Decimal] = []
    with fake_venue(venue, sc) as fake:
        for day in range(days):
            if day in changes:
                changes[day]()
            start = WINDOW.start + timedelta(days=day - 1) if day else WINDOW.start
            window = DayWindow(start, WINDOW.start + timedelta(days=day))
            state = await venue_connector(venue, fake.base_url, sc, memory=memory).fetch_account_state(window)
            counted.append(state.deposits)
            memory = FlowMemory(memory.key, memory.counted | frozenset(state.counted_flows))
        assert fake.unknown == []
    return counted


async def measure_state_fetch(venue: str, scenario: Scenario, runs: int = 20) -> dict[str, float]:
    """Time fetch_account_state against the local replica once markets are cached (ms: min/median/max).

    The first call loads markets into the shared cache and is not counted.
    """
    with fake_venue(venue, scenario) as fake:
        cache: dict[str, object] = {}
        await venue_connector(venue, fake.base_url, scenario, cache=cache).fetch_account_state(WINDOW)
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            await venue_connector(venue, fake.base_url, scenario, cache=cache).fetch_account_state(WINDOW)
            samples.append((time.perf_counter() - started) * 1000)
    return {"min": min(samples), "median": statistics.median(samples), "max": max(samples)}
