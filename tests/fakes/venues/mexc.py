"""Fake mexc (spot v3 + futures "contract" v1) for the ccxt connector: documented formats, signatures checked.

PROVENANCE of each format (values are the scenario's; field names and meanings from the sources named):
- signing, spot (mexcdevelop.github.io/apidocs/spot_v3_en "Signed"): header X-MEXC-APIKEY, `signature` =
  hex HMAC-SHA256(secret, the query string before it), `timestamp` required; refusals
  `{"code": 700002, "msg": "Signature for this request is not valid."}` (400) and `{"code": 10072, "msg":
  "Api key info invalid"}` (as ccxt 4.5.64 `mexc.exceptions` quotes them).
- signing, futures (apidocs/contract_v1_en "Access and signature"): headers ApiKey, Request-Time (ms),
  Signature = hex HMAC-SHA256(secret, ApiKey + Request-Time + the sorted query string); refusal
  `{"success": false, "code": 602, "message": "Signature verification failed!"}`.
- markets (`tests/fakes/data/ccxt/mexc_markets.json`): GET /api/v3/exchangeInfo and GET /api/v1/contract/
  detail, field names of the apidocs examples as quoted in ccxt's `fetch_spot_markets`/`fetch_swap_markets`;
  ZKB trades only against ETH; BTC_USD is the coin-margined perpetual (settled in BTC, 100 USD a contract).
- tickers: GET /api/v3/ticker/24hr (binance-style rows: symbol, lastPrice, bidPrice, askPrice, ...).
- balances: GET /api/v3/account {canTrade, canWithdraw, canDeposit, accountType, balances: [{asset, free,
  locked}], permissions}; GET /api/v1/private/account/assets {success, code, data: [{currency,
  positionMargin, availableBalance, cashBalance, frozenBalance, equity, unrealized, bonus}]}.
- positions: GET /api/v1/private/position/open_positions (ccxt's quoted example: holdVol, openAvgPrice, im,
  realised, ... and no unrealized PnL field).
- flows: GET /api/v3/capital/deposit/hisrec (amount, coin, network, status 1-12, address, txId, insertTime,
  unlockConfirm, confirmTimes, memo, transHash, updateTime; no id) and /api/v3/capital/withdraw/history
  (id, txId, coin, network, address, amount, transferType, status 1-10, transactionFee, applyTime, ...):
  `startTime`/`endTime` (ms), `limit` default and maximum 1,000, newest first.
- funding: GET /api/v1/private/position/funding_records (data {pageSize, totalCount, totalPage, currentPage,
  resultList: [{id, symbol, positionType, positionValue, funding, rate, settleTime}]}; `page_num`,
  `page_size` at most 100; newest first).
- trades: GET /api/v3/myTrades (symbol required; symbol, id, orderId, price, qty, quoteQty, commission,
  commissionAsset, time, isBuyer, isMaker) and GET /api/v1/private/order/list/order_deals (symbol required;
  id, symbol, side, vol, price, feeCurrency, fee, timestamp, profit, orderId, taker; `page_num`,
  `page_size` at most 100).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from tests.fakes.ccxt_venues import Adapter, Body, Reply, Scenario, VenueRefusal, markets_file

SPOT_PRIVATE = "/api/v3/"
CONTRACT_PRIVATE = "/api/v1/private/"


def _contract(data: Any) -> dict[str, Any]:
    return {"success": True, "code": 0, "data": data}


class MexcAdapter(Adapter):
    name = "mexc"

    def public(self, path: str) -> bool:
        return path in ("/api/v3/exchangeInfo", "/api/v3/ticker/24hr", "/api/v3/time", "/api/v3/ping") or \
            path.startswith("/api/v1/contract/")

    def verify(self, scenario: Scenario, request: Request, path: str, query: str, body: bytes) -> Reply | None:
        if path.startswith(CONTRACT_PRIVATE):
            return self._verify_contract(scenario, request, query)
        key = request.headers.get("X-MEXC-APIKEY")
        if not key or (not scenario.permissive and key != scenario.api_key):
            return 400, {"code": 10072, "msg": "Api key info invalid"}
        if scenario.permissive:
            return None
        signed, sep, signature = query.rpartition("&signature=")
        if not sep or "timestamp" not in dict(parse_qsl(signed)):
            return 400, {"code": 700002, "msg": "Signature for this request is not valid."}
        expected = hmac.new(scenario.api_secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return 400, {"code": 700002, "msg": "Signature for this request is not valid."}
        return None

    def _verify_contract(self, scenario: Scenario, request: Request, query: str) -> Reply | None:
        key, stamp, sign = (request.headers.get(h) for h in ("ApiKey", "Request-Time", "Signature"))
        refused = 200, {"success": False, "code": 602, "message": "Signature verification failed!"}
        if not key or not stamp or not sign:
            return 200, {"success": False, "code": 401, "message": "Not logged in"}
        if scenario.permissive:
            return None
        if key != scenario.api_key:
            return refused
        expected = hmac.new(scenario.api_secret.encode(), (key + stamp + query).encode(), hashlib.sha256).hexdigest()
        return None if hmac.compare_digest(expected, sign) else refused

    def builtin(self, scenario: Scenario, path: str, query: dict[str, str]) -> Body | None:
        if path == "/api/v3/ticker/24hr":
            return [_ticker(symbol, price) for symbol, price in scenario.prices.items()]
        data = markets_file("mexc")
        return data.get(path)

    def not_found(self, path: str) -> Reply:
        return 404, {"code": 404, "msg": f"fake mexc: no route {path}"}


ADAPTER = MexcAdapter


def _ticker(symbol: str, price: str) -> dict[str, Any]:
    return {"symbol": symbol.replace("/", ""), "priceChange": "0", "priceChangePercent": "0", "prevClosePrice": price,
            "lastPrice": price, "bidPrice": price, "bidQty": "1", "askPrice": price, "askQty": "1",
            "openPrice": price, "highPrice": price, "lowPrice": price, "volume": "0", "quoteVolume": "0",
            "openTime": 1714867200000, "closeTime": 1714953599000, "count": None}


def flow_history(rows: list[dict[str, Any]], time_field: str) -> Callable[[dict[str, str]], Body]:
    """`startTime`/`endTime` in ms (inclusive), newest first, `limit` default and maximum 1,000."""

    def answer(query: dict[str, str]) -> Body:
        limit = int(query.get("limit", 1000))
        if not 1 <= limit <= 1000:
            raise VenueRefusal(400, {"code": 700004, "msg": "Param 'limit' is illegal"})
        start, end = int(query.get("startTime", 0)), int(query.get("endTime", 2**62))
        out = sorted((r for r in rows if start <= int(r[time_field]) <= end), key=lambda r: -int(r[time_field]))
        return out[:limit]

    return answer


def contract_pages(rows: list[dict[str, Any]], time_field: str, *, wrap: bool,
                   match: tuple[str, ...] = ()) -> Callable[[dict[str, str]], Body]:
    """futures lists: `page_num` (1-based), `page_size` (default 20, at most 100), newest first; optional
    `start_time`/`end_time` (ms) and the `match` query fields."""

    def answer(query: dict[str, str]) -> Body:
        size = int(query.get("page_size", 20))
        if not 1 <= size <= 100:
            raise VenueRefusal(200, {"success": False, "code": 600, "message": "page_size must be 1..100"})
        number = int(query.get("page_num", 1))
        start, end = int(query.get("start_time", 0)), int(query.get("end_time", 2**62))
        out = sorted((r for r in rows if start <= int(r[time_field]) <= end
                      and all(f not in query or str(r.get(f)) == query[f] for f in match)),
                     key=lambda r: -int(r[time_field]))
        page = out[(number - 1) * size:number * size]
        if not wrap:
            return _contract(page)
        total = len(out)
        return _contract({"pageSize": size, "totalCount": total, "totalPage": -(-total // size),
                          "currentPage": number, "resultList": page})

    return answer


def spot_trades(rows: list[dict[str, Any]]) -> Callable[[dict[str, str]], Body]:
    def answer(query: dict[str, str]) -> Body:
        if "symbol" not in query:
            raise VenueRefusal(400, {"code": 700004, "msg": "Mandatory parameter 'symbol' was not sent"})
        start, end = int(query.get("startTime", 0)), int(query.get("endTime", 2**62))
        limit = int(query.get("limit", 100))
        out = [r for r in rows if r["symbol"] == query["symbol"] and start <= int(r["time"]) <= end]
        return sorted(out, key=lambda r: -int(r["time"]))[:limit]

    return answer


def scenario(
    spot: dict[str, str] | None = None,
    prices: dict[str, str] | None = None,
    *,
    futures: dict[str, dict[str, str]] | None = None,
    positions: list[dict[str, Any]] | None = None,
    deposits: list[dict[str, Any]] | None = None,
    withdrawals: list[dict[str, Any]] | None = None,
    funding: list[dict[str, Any]] | None = None,
    trades: list[dict[str, Any]] | None = None,
    deals: list[dict[str, Any]] | None = None,
    **credentials: Any,
) -> Scenario:
    """spot: asset -> free; futures: currency -> {equity, unrealized, positionMargin, availableBalance, ...}."""
    credentials.setdefault("api_key", "mx0vglTestKey0001")
    credentials.setdefault("api_secret", "mexc-test-secret-0001")
    assets = [{"currency": c, "positionMargin": "0", "availableBalance": f.get("equity", "0"),
               "cashBalance": f.get("equity", "0"), "frozenBalance": "0", "equity": "0", "unrealized": "0",
               "bonus": "0", "availableCash": f.get("equity", "0"), "availableOpen": f.get("equity", "0"), **f}
              for c, f in (futures or {}).items()]
    responses: dict[str, Any] = {
        "/api/v3/account": {"makerCommission": None, "takerCommission": None, "buyerCommission": None,
                            "sellerCommission": None, "canTrade": True, "canWithdraw": True, "canDeposit": True,
                            "updateTime": None, "accountType": "SPOT", "balances": [
                                {"asset": a, "free": v, "locked": "0"} for a, v in (spot or {}).items()],
                            "permissions": ["SPOT"]},
        "/api/v1/private/account/assets": _contract(assets),
        "/api/v1/private/position/open_positions": _contract(positions or []),
        "/api/v3/capital/deposit/hisrec": flow_history(deposits or [], "insertTime"),
        "/api/v3/capital/withdraw/history": flow_history(withdrawals or [], "applyTime"),
        "/api/v1/private/position/funding_records": contract_pages(funding or [], "settleTime", wrap=True),
        "/api/v3/myTrades": spot_trades(trades or []),
        "/api/v1/private/order/list/order_deals": contract_pages(deals or [], "timestamp", wrap=False,
                                                                 match=("symbol",)),
    }
    return Scenario(responses=responses, prices=prices or {}, **credentials)


def open_position(symbol: str, vol: int, price: str, realised: str = "0") -> dict[str, Any]:
    return {"positionId": 1394650, "symbol": symbol, "positionType": 1, "openType": 2, "state": 1, "holdVol": vol,
            "frozenVol": 0, "closeVol": 0, "holdAvgPrice": price, "openAvgPrice": price, "closeAvgPrice": 0,
            "liquidatePrice": 0, "oim": 0, "im": 0, "holdFee": 0, "realised": realised, "leverage": 10,
            "createTime": 1714867200000, "updateTime": 1714953599000, "autoAddIm": False}


PRICES = {"BTC/USDT": "50000", "ETH/USDT": "2500", "ETH/BTC": "0.05", "USDC/USDT": "0.9998", "MX/USDT": "3",
          "ZKB/ETH": "0.01"}
E2E = (lambda: scenario({"BTC": "0.5", "USDT": "1000"}, PRICES), "26000")
MALFORMED = (lambda: scenario({"BTC": "0.5"}, PRICES), "/api/v3/account")
