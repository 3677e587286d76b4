"""Fake bingx (open-api.bingx.com; spot, USDT-margined and coin-margined perpetuals, fund account).

PROVENANCE (formats; values are the scenario's):
- Signature (bingx-api.github.io "Authentication"): header `X-BX-APIKEY`; `signature` = hex
  HMAC-SHA256(secret, the request's parameter string, `timestamp` included), appended as the last query
  parameter. Refusals are the venue's bodies: `{"code": 100001, "msg": "Signature verification failed"}`,
  `{"code": 100413, "msg": "Incorrect apiKey"}` (error tables of the docs' account endpoints).
- Markets `GET /openApi/spot/v1/common/symbols`, `/openApi/swap/v2/quote/contracts`,
  `/openApi/cswap/v1/market/contracts`; tickers `GET /openApi/spot/v1/ticker/24hr`
  (tests/fakes/data/ccxt/bingx_markets.json; fields as ccxt 4.5.64 bingx.parse_market reads them and its
  static test data; VST-BTC trades only against BTC).
- Balances: spot `GET /openApi/spot/v1/account/balance` (`data.balances[] {asset, free, locked}`), fund
  `GET /openApi/fund/v1/account/balance` (`data.assets[]`), USDT-M `GET /openApi/swap/v3/user/balance`
  and coin-M `GET /openApi/cswap/v1/user/balance` (`data[] {asset, balance, equity, unrealizedProfit,
  availableMargin, usedMargin, freezedMargin, ...}`): the docs' "Query Assets" / "Query account data"
  examples as quoted in ccxt's bingx.fetch_balance.
- Positions `GET /openApi/swap/v2/user/positions`, `/openApi/cswap/v1/user/positions`; income
  `GET /openApi/swap/v2/user/income` (incomeType, startTime/endTime, `limit` default 100, at most 1,000).
- `GET /openApi/api/v3/capital/deposit/hisrec` and `/withdraw/history` ("Deposit records" / "Withdraw
  records"): a bare list; startTime/endTime, `offset`, `limit` (default and at most 1,000). Deposit rows:
  amount, coin, network, status (0 in progress, 6 chain uploaded, 1 completed), address, addressTag,
  txId, insertTime, transferType (0 = deposit), unlockConfirm, confirmTimes, sourceAddress; no id.
  Withdrawal rows: id, amount, applyTime ("YYYY-MM-DD HH:MM:SS"), coin, network, status (4 under review,
  5 failed, 6 completed), transferType, transactionFee, confirmNo, info, txId.
- `GET /openApi/v1/account/apiPermissions` ("Query user API Key permissions"): `data {apiKey, permissions
  [1 spot trading, 2 read, 3 perpetual trading, 4 universal transfer, 5 withdraw, 7 sub-account transfer],
  ipAddresses, note}`.
- `GET /openApi/spot/v1/trade/myTrades` (`data.fills[]`, startTime/endTime, `limit` at most 1,000);
  `GET /openApi/swap/v2/trade/allFillOrders` (`data.fill_orders[] {symbol, orderId, price, volume, amount,
  commission, currency, filledTm, ...}`, startTs/endTs; the rows carry no trade id).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request

from tests.fakes.ccxt_venues import Adapter, Body, Reply, Scenario, VenueRefusal, markets_file

TS = 1714953599000
_PUBLIC = {"/openApi/spot/v1/common/symbols", "/openApi/swap/v2/quote/contracts", "/openApi/cswap/v1/market/contracts",
           "/openApi/spot/v1/ticker/24hr", "/openApi/swap/v2/quote/ticker", "/openApi/cswap/v1/market/ticker"}


def _ok(data: Any) -> dict[str, Any]:
    return {"code": 0, "msg": "", "debugMsg": "", "data": data}


class BingxAdapter(Adapter):
    name = "bingx"

    def public(self, path: str) -> bool:
        return path in _PUBLIC

    def verify(self, scenario: Scenario, request: Request, path: str, query: str, body: bytes) -> Reply | None:
        key = request.headers.get("X-BX-APIKEY")
        signed, sep, signature = query.rpartition("&signature=")
        if not key or key != scenario.api_key and not scenario.permissive:
            return 200, {"code": 100413, "msg": "Incorrect apiKey", "debugMsg": ""}
        if scenario.permissive:
            return None
        if not sep or "timestamp" not in dict(parse_qsl(signed)):
            return 200, {"code": 100421, "msg": "Null timestamp or timestamp mismatch", "debugMsg": ""}
        expected = hmac.new(scenario.api_secret.encode(), unquote(signed).encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return 200, {"code": 100001, "msg": "Signature verification failed", "debugMsg": ""}
        return None

    def builtin(self, scenario: Scenario, path: str, query: dict[str, str]) -> Body | None:
        data = markets_file("bingx")
        if path == "/openApi/spot/v1/common/symbols":
            return _ok({"symbols": data["spot"]})
        if path == "/openApi/swap/v2/quote/contracts":
            return _ok(data["linear"])
        if path == "/openApi/cswap/v1/market/contracts":
            return _ok(data["inverse"])
        if path == "/openApi/spot/v1/ticker/24hr":
            return {**_ok([_ticker(symbol, price) for symbol, price in scenario.prices.items()]), "timestamp": TS}
        return None

    def not_found(self, path: str) -> Reply:
        return 404, {"code": 100400, "msg": f"fake bingx: no route {path}", "debugMsg": ""}


ADAPTER = BingxAdapter


def _ticker(symbol: str, price: str) -> dict[str, Any]:
    return {"symbol": symbol.replace("/", "-"), "openPrice": price, "highPrice": price, "lowPrice": price,
            "lastPrice": price, "volume": "1", "quoteVolume": price, "openTime": TS - 86_400_000, "closeTime": TS,
            "askPrice": price, "askQty": "1", "bidPrice": price, "bidQty": "1", "priceChangePercent": "0",
            "priceChange": "0"}


def _history(rows: list[dict[str, Any]], time_field: str) -> Any:
    """Capital deposit/withdraw records: a bare list, newest first, startTime/endTime, offset/limit <= 1,000."""

    def answer(query: dict[str, str]) -> Body:
        limit = int(query.get("limit", 1000))
        if not 1 <= limit <= 1000:
            raise VenueRefusal(200, {"code": 100400, "msg": "limit cannot exceed 1000", "debugMsg": ""})
        start, end = int(query.get("startTime", 0)), int(query.get("endTime", 2**62))
        if start > end:
            raise VenueRefusal(200, {"code": 100400, "msg": "startTime must be less than endTime", "debugMsg": ""})
        out = sorted((r for r in rows if start <= _row_ms(r, time_field) <= end),
                     key=lambda r: -_row_ms(r, time_field))
        offset = int(query.get("offset", 0))
        return out[offset:offset + limit]

    return answer


def _row_ms(row: dict[str, Any], field: str) -> int:
    value = str(row[field])
    if value.isdigit():
        return int(value)
    return int(datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp() * 1000)


def _income(rows: list[dict[str, Any]]) -> Any:
    def answer(query: dict[str, str]) -> Body:
        limit = int(query.get("limit", 100))
        if not 1 <= limit <= 1000:
            raise VenueRefusal(200, {"code": 100400, "msg": "limit cannot exceed 1000", "debugMsg": ""})
        start, end = int(query.get("startTime", 0)), int(query.get("endTime", 2**62))
        out = [r for r in rows if start <= int(r["time"]) <= end
               and r["incomeType"] == query.get("incomeType", r["incomeType"])]
        return _ok(out[:limit])

    return answer


def _fills(rows: list[dict[str, Any]]) -> Any:
    def answer(query: dict[str, str]) -> Body:
        start, end = int(query.get("startTime", 0)), int(query.get("endTime", 2**62))
        out = [r for r in rows if r["symbol"] == query.get("symbol") and start <= int(r["time"]) <= end]
        return _ok({"fills": out[:int(query.get("limit", 500))]})

    return answer


def _swap_fills(rows: list[dict[str, Any]]) -> Any:
    def answer(query: dict[str, str]) -> Body:
        start, end = int(query.get("startTs", 0)), int(query.get("endTs", 2**62))
        out = [r for r in rows if r["symbol"] == query.get("symbol") and start <= _iso_ms(r["filledTm"]) <= end]
        return _ok({"fill_orders": out})

    return answer


def _iso_ms(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp() * 1000)


def scenario(
    spot: dict[str, str] | None = None,
    prices: dict[str, str] | None = None,
    *,
    fund: dict[str, str] | None = None,
    perp: list[dict[str, Any]] | None = None,
    coin_m: list[dict[str, Any]] | None = None,
    positions: list[dict[str, Any]] | None = None,
    coin_m_positions: list[dict[str, Any]] | None = None,
    deposits: list[dict[str, Any]] | None = None,
    withdrawals: list[dict[str, Any]] | None = None,
    income: list[dict[str, Any]] | None = None,
    fills: list[dict[str, Any]] | None = None,
    swap_fills: list[dict[str, Any]] | None = None,
    permissions: list[int] | None = None,
    **credentials: Any,
) -> Scenario:
    """spot / fund: asset -> free amount; perp / coin_m: rows of the perpetual account answers (see `account`)."""
    api_key = credentials.setdefault("api_key", "bingx-test-api-key-0001")
    responses: dict[str, Any] = {
        "/openApi/spot/v1/account/balance": _ok({"balances": [{"asset": a, "free": v, "locked": "0"}
                                                              for a, v in (spot or {}).items()]}),
        "/openApi/fund/v1/account/balance": {"code": "0", "timestamp": str(TS), "data": {
            "assets": [{"asset": a, "free": v, "locked": "0"} for a, v in (fund or {}).items()]}},
        "/openApi/swap/v3/user/balance": _ok(perp or []),
        "/openApi/cswap/v1/user/balance": {**_ok(coin_m or []), "timestamp": TS},
        "/openApi/swap/v2/user/positions": _ok(positions or []),
        "/openApi/cswap/v1/user/positions": {**_ok(coin_m_positions or []), "timestamp": TS},
        "/openApi/swap/v2/user/income": _income(income or []),
        "/openApi/api/v3/capital/deposit/hisrec": _history(deposits or [], "insertTime"),
        "/openApi/api/v3/capital/withdraw/history": _history(withdrawals or [], "applyTime"),
        "/openApi/spot/v1/trade/myTrades": _fills(fills or []),
        "/openApi/swap/v2/trade/allFillOrders": _swap_fills(swap_fills or []),
        "/openApi/v1/account/apiPermissions": _ok({"apiKey": api_key, "permissions": permissions or [2],
                                                   "ipAddresses": [], "note": "zka"}),
    }
    return Scenario(responses=responses, prices=prices or {}, **credentials)


def account(asset: str, balance: str, unrealized: str = "0", *, used: str = "0", frozen: str = "0") -> dict[str, Any]:
    """A perpetual account row: equity = balance + unrealized PnL; available = equity - used - frozen margin."""
    equity = str(float(balance) + float(unrealized)) if unrealized != "0" else balance
    available = f"{float(equity) - float(used) - float(frozen):.8f}"
    return {"userId": "116000295", "asset": asset, "balance": balance, "equity": equity,
            "unrealizedProfit": unrealized, "realisedProfit": "0", "availableMargin": available,
            "usedMargin": used, "freezedMargin": frozen, "shortUid": "12851936"}


def deposit(tx: str, coin: str, amount: str, status: int, ms: int) -> dict[str, Any]:
    return {"amount": amount, "coin": coin, "network": "TRC20", "status": status,
            "address": "TRFTd1FxepQE6CnpwzUEMEbFaLm5bJK67s", "addressTag": "", "txId": tx, "insertTime": ms,
            "transferType": 0, "unlockConfirm": "2", "confirmTimes": "2/2", "sourceAddress": "TSource"}


def withdrawal(n: str, coin: str, amount: str, fee: str, status: int, ms: int) -> dict[str, Any]:
    applied = datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return {"address": "TRFTd1FxepQE6CnpwzUEMEbFaLm5bJK67s", "amount": amount, "applyTime": applied, "coin": coin,
            "id": n, "network": "TRC20", "status": status, "transferType": 1, "transactionFee": fee,
            "confirmNo": 2, "info": "", "txId": f"tx-{n}"}


E2E = (lambda: scenario({"BTC": "0.5", "USDT": "100"}, {"BTC/USDT": "50000"}), "25100")
MALFORMED = (lambda: scenario({"BTC": "0.5"}, {"BTC/USDT": "50000"}), "/openApi/spot/v1/account/balance")
