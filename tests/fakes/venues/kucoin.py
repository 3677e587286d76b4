"""Fake KuCoin (classic account, spot host and futures host collapsed onto one): signatures checked (API key
version 2), documented formats, loopback HTTP.

PROVENANCE of every format (read 2026-12; kucoin.com/docs-new and kucoin.com/docs/rest, and ccxt 4.5.64
kucoin.py, whose comments quote the docs):
- signing (docs-new/authentication): KC-API-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD + endpoint
  [+ '?' + query] + body)); with KC-API-KEY-VERSION 2, KC-API-PASSPHRASE = base64(HMAC-SHA256(secret,
  passphrase)). Errors (HTTP 401): 400001 missing headers, 400003 "KC-API-KEY not exists", 400004
  "Invalid KC-API-PASSPHRASE", 400005 "Signature error" (codes ccxt maps to AuthenticationError).
- markets: GET /api/v2/symbols, /api/v3/margin/symbols, /api/v1/isolated/symbols, /api/v1/market/allTickers
  (also the tickers), futures GET /api/v1/contracts/active; account type: GET /api/v1/hf/accounts/opened
  (data true = high-frequency account) and GET /api/ua/v1/account/mode (selfAccountMode CLASSIC).
- balances: GET /api/v1/accounts?type=main|trade|trade_hf ("Get Account List - Spot/Margin/trade_hf":
  rows id, currency, type, balance, available, holds); GET /api/v3/margin/accounts (accounts[]: currency,
  total, available, hold, liability); GET /api/v3/isolated/accounts (assets[]: symbol, baseAsset,
  quoteAsset); futures GET /api/v1/account-overview?currency= (accountEquity incl. unrealisedPNL);
  GET /api/v1/earn/hold-assets (items[]: currency, holdAmount, ...).
- positions: futures GET /api/v1/positions (unrealisedPnl in the settle currency).
- key permissions: GET /api/v1/user/api-key, `permission` = comma-separated words ("General,Spot,Futures");
  "Transfer" / "Withdrawal" move funds out (kucoin support "API key upgrade": Transfer "allows a key to
  transfer funds (including deposit and withdrawal)").
- deposits / withdrawals: GET /api/v1/deposits and /api/v1/withdrawals: startAt/endAt (ms, on createdAt),
  currentPage, pageSize (default 50; above 500 refused: 400100 "pageSize should not greater than 500",
  quoted in ccxt's error map); newest first; {currentPage, pageSize, totalNum, totalPage, items}; status
  PROCESSING / WALLET_PROCESSING / SUCCESS / FAILURE; withdrawals carry `fee` apart from `amount`.
- futures fills: futures host GET /api/v1/fills (currentPage/pageSize, ccxt caps pageSize at 1,000;
  tradeTime in ns); it shares the path with classic spot fills, told apart here by the symbol's dash.
- spot fills: GET /api/v1/hf/fills (high-frequency account: symbol required, limit at most 100, lastId) and
  GET /api/v1/fills (classic: currentPage/pageSize).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from tests.fakes.ccxt_venues import IN_WINDOW_MS, Adapter, Body, Reply, Scenario, VenueRefusal

NOW_MS = 1714953599000
PAGE_MAX = 500
SPOT = [("BTC", "USDT"), ("ETH", "USDT"), ("USDC", "USDT"), ("KCS", "USDT"), ("DOT", "BTC")]  # DOT: BTC only


def _ok(data: Any) -> dict[str, Any]:
    return {"code": "200000", "data": data}


def _error(code: str, msg: str) -> dict[str, Any]:
    return {"code": code, "msg": msg}


def _sign(secret: str, payload: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()).decode()


def _spot_symbol(base: str, quote: str) -> dict[str, Any]:
    return {"symbol": f"{base}-{quote}", "name": f"{base}-{quote}", "baseCurrency": base, "quoteCurrency": quote,
            "feeCurrency": quote, "market": "USDS", "baseMinSize": "0.00001", "quoteMinSize": "0.1",
            "baseMaxSize": "10000000000", "quoteMaxSize": "99999999", "baseIncrement": "0.00000001",
            "quoteIncrement": "0.000001", "priceIncrement": "0.0000001", "priceLimitRate": "0.1", "minFunds": "0.1",
            "isMarginEnabled": base in ("BTC", "ETH"), "enableTrading": True, "feeCategory": 1,
            "makerFeeCoefficient": "1.00", "takerFeeCoefficient": "1.00", "st": False}


def _contract(symbol: str, base: str, quote: str, settle: str, inverse: bool, multiplier: str) -> dict[str, Any]:
    return {"symbol": symbol, "rootSymbol": settle, "type": "FFWCSX", "firstOpenDate": 1585555200000,
            "expireDate": None, "settleDate": None, "baseCurrency": base, "quoteCurrency": quote,
            "settleCurrency": settle, "maxOrderQty": 1000000, "maxPrice": 1000000.0, "lotSize": 1, "tickSize": 0.1,
            "indexPriceTickSize": 0.01, "multiplier": float(multiplier), "initialMargin": 0.008,
            "maintainMargin": 0.004, "maxRiskLimit": 100000, "minRiskLimit": 100000, "riskStep": 50000,
            "makerFeeRate": 0.0002, "takerFeeRate": 0.0006, "takerFixFee": 0.0, "makerFixFee": 0.0,
            "settlementFee": None, "isDeleverage": True, "isQuanto": False, "isInverse": inverse,
            "markMethod": "FairPrice", "fairMethod": "FundingRate", "status": "Open", "fundingFeeRate": 0.0001,
            "predictedFundingFeeRate": 0.0001, "fundingRateGranularity": 28800000, "openInterest": "1",
            "turnoverOf24h": 0, "volumeOf24h": 0, "markPrice": 50000, "indexPrice": 50000, "lastTradePrice": 50000,
            "nextFundingRateTime": 1000000, "maxLeverage": 125, "lowPrice": 50000, "highPrice": 50000,
            "priceChgPct": 0, "priceChg": 0}


CONTRACTS = [_contract("XBTUSDTM", "XBT", "USDT", "USDT", False, "0.001"),
             _contract("XBTUSDM", "XBT", "USD", "XBT", True, "-1")]


def _ticker(symbol: str, price: str) -> dict[str, Any]:
    return {"symbol": symbol, "symbolName": symbol, "buy": price, "bestBidSize": "1", "sell": price,
            "bestAskSize": "1", "changeRate": "0", "changePrice": "0", "high": price, "low": price, "vol": "0",
            "volValue": "0", "last": price, "averagePrice": price, "takerFeeRate": "0.001", "makerFeeRate": "0.001",
            "takerCoefficient": "1", "makerCoefficient": "1"}


class KucoinAdapter(Adapter):
    name = "kucoin"
    _PUBLIC = ("/api/v2/symbols", "/api/v1/market/", "/api/v1/contracts/", "/api/v3/currencies", "/api/v1/timestamp")

    def public(self, path: str) -> bool:
        return path.startswith(self._PUBLIC)

    def verify(self, scenario: Scenario, request: Request, path: str, query: str, body: bytes) -> Reply | None:
        headers = request.headers
        key, sign, stamp = headers.get("KC-API-KEY"), headers.get("KC-API-SIGN"), headers.get("KC-API-TIMESTAMP")
        if not key or not sign or not stamp or not headers.get("KC-API-PASSPHRASE"):
            return 401, _error("400001", "Please check the header of your request for KC-API-KEY, KC-API-SIGN, "
                                         "KC-API-TIMESTAMP, KC-API-PASSPHRASE")
        if scenario.permissive:
            return None
        if key != scenario.api_key:
            return 401, _error("400003", "KC-API-KEY not exists")
        # key version 2: the passphrase is sent signed with the secret
        if headers.get("KC-API-KEY-VERSION") != "2" or not hmac.compare_digest(
                headers.get("KC-API-PASSPHRASE", ""), _sign(scenario.api_secret, scenario.passphrase or "")):
            return 401, _error("400004", "Invalid KC-API-PASSPHRASE")
        expected = _sign(scenario.api_secret, stamp + request.method + path + (f"?{query}" if query else "")
                         + body.decode())
        if not hmac.compare_digest(expected, sign):
            return 401, _error("400005", "Signature error")
        return None

    def builtin(self, scenario: Scenario, path: str, query: dict[str, str]) -> Body | None:
        if path == "/api/v2/symbols":
            return _ok([_spot_symbol(base, quote) for base, quote in SPOT])
        if path == "/api/v1/market/allTickers":
            rows = [_ticker(symbol.replace("/", "-"), price) for symbol, price in scenario.prices.items()]
            return _ok({"time": NOW_MS, "ticker": rows})
        if path == "/api/v1/contracts/active":
            return _ok(CONTRACTS)
        return None

    def not_found(self, path: str) -> Reply:
        return 404, _error("404000", f"Url Not Found: {path}")


ADAPTER = KucoinAdapter


def _paged(rows: list[dict[str, Any]], time_field: str = "createdAt",
           page_max: int = PAGE_MAX) -> Callable[[dict[str, str]], Body]:
    """currentPage / pageSize paging (default 50, at most 500), newest first, startAt/endAt inclusive on createdAt."""

    def answer(query: dict[str, str]) -> Body:
        size, page = int(query.get("pageSize", 50)), int(query.get("currentPage", 1))
        if size > page_max:
            raise VenueRefusal(400, _error("400100", f"pageSize should not greater than {page_max}"))
        start, end = int(query.get("startAt", 0)), int(query.get("endAt", 2**62))
        out = sorted((r for r in rows if start <= int(r[time_field]) <= end), key=lambda r: -int(r[time_field]))
        total = len(out)
        return _ok({"currentPage": page, "pageSize": size, "totalNum": total, "totalPage": -(-total // size),
                    "items": out[(page - 1) * size:page * size]})

    return answer


def deposit(n: str, currency: str, amount: str, ms: int, status: str = "SUCCESS",
            inner: bool = False) -> dict[str, Any]:
    return {"currency": currency, "chain": "trx", "status": status, "address": "TRx0000000000000000000000000000001",
            "memo": "", "isInner": inner, "amount": amount, "fee": "0", "walletTxId": f"tx{n}@TRx0001",
            "createdAt": ms, "updatedAt": ms + 60_000, "remark": "Deposit", "arrears": False}


def withdrawal(n: str, currency: str, amount: str, fee: str, ms: int, status: str = "SUCCESS") -> dict[str, Any]:
    return {"id": f"w{n}", "currency": currency, "chain": "trx", "status": status,
            "address": "TRx0000000000000000000000000000002", "memo": "", "isInner": False, "amount": amount,
            "fee": fee, "walletTxId": f"wtx{n}", "createdAt": ms, "updatedAt": ms + 60_000, "remark": ""}


def position(symbol: str, settle: str, qty: int, upl: str, inverse: bool) -> dict[str, Any]:
    return {"id": f"p-{symbol}", "symbol": symbol, "autoDeposit": False, "maintMarginReq": 0.005,
            "riskLimit": 200000, "realLeverage": 5, "crossMode": False, "delevPercentage": 0.1,
            "openingTimestamp": IN_WINDOW_MS, "currentTimestamp": IN_WINDOW_MS, "currentQty": qty,
            "currentCost": 50, "currentComm": 0.03, "unrealisedCost": 50, "realisedGrossCost": 0,
            "realisedCost": 0.03, "isOpen": True, "markPrice": 50000, "markValue": 50, "posCost": 50,
            "posCross": 0, "posInit": 10, "posComm": 0.03, "posLoss": 0, "posMargin": 10, "posMaint": 0.3,
            "maintMargin": 10, "realisedGrossPnl": 0, "realisedPnl": -0.03, "unrealisedPnl": float(upl),
            "unrealisedPnlPcnt": 0, "unrealisedRoePcnt": 0, "avgEntryPrice": 50000, "liquidationPrice": 40000,
            "bankruptPrice": 39000, "settleCurrency": settle, "isInverse": inverse, "maintainMargin": 0.005,
            "marginMode": "ISOLATED", "positionSide": "BOTH", "leverage": 5}


def fill(symbol: str, trade_id: int, ms: int, price: str = "50000", size: str = "0.02", fee: str = "1",
         fee_currency: str = "USDT") -> dict[str, Any]:
    """A spot fill of GET /api/v1/hf/fills (id is the paging key, tradeId the trade)."""
    return {"id": trade_id, "orderId": f"o{trade_id}", "counterOrderId": "c", "tradeId": trade_id, "symbol": symbol,
            "side": "buy", "liquidity": "taker", "type": "market", "forceTaker": False, "price": price,
            "size": size, "funds": str(float(price) * float(size)), "fee": fee, "feeRate": "0.001",
            "feeCurrency": fee_currency, "stop": "", "tradeType": "TRADE", "taxRate": "0", "tax": "0",
            "createdAt": ms}


def futures_fill(symbol: str, trade_id: int, ms: int, price: str, size: int, fee: str,
                 fee_currency: str) -> dict[str, Any]:
    """A fill of the futures host's GET /api/v1/fills (docs-new futures "Get Trade History")."""
    return {"symbol": symbol, "tradeId": str(trade_id), "orderId": f"o{trade_id}", "side": "buy",
            "liquidity": "taker", "forceTaker": False, "price": price, "size": size, "value": "0",
            "openFeePay": fee, "closeFeePay": "0", "stop": "", "feeRate": "0.0006", "fixFee": "0",
            "feeCurrency": fee_currency, "tradeTime": ms * 1_000_000, "subTradeType": None, "marginMode": "ISOLATED",
            "settleCurrency": fee_currency, "displayType": "market", "fee": fee, "orderType": "market",
            "tradeType": "trade", "createdAt": ms}


READ_ONLY = "General"


def scenario(
    trade: dict[str, str] | None = None,
    prices: dict[str, str] | None = None,
    *,
    hf: bool = True,
    trade_hf: dict[str, str] | None = None,
    main: dict[str, str] | None = None,
    cross_margin: dict[str, tuple[str, str]] | None = None,
    isolated_margin: dict[str, tuple[tuple[str, str, str], tuple[str, str, str]]] | None = None,
    futures: dict[str, str] | None = None,
    earn: dict[str, str] | None = None,
    positions: list[dict[str, Any]] | None = None,
    deposits: list[dict[str, Any]] | None = None,
    withdrawals: list[dict[str, Any]] | None = None,
    hf_fills: list[dict[str, Any]] | None = None,
    futures_fills: list[dict[str, Any]] | None = None,
    permission: str = READ_ONLY,
    **credentials: Any,
) -> Scenario:
    """trade / trade_hf / main / earn: currency -> amount. cross_margin: currency -> (total, liability).
    isolated_margin: symbol -> ((base, total, liability), (quote, total, liability)).
    futures: settle currency (USDT, USDC, XBT) -> accountEquity. hf: the account is high-frequency (trade_hf)."""
    credentials.setdefault("passphrase", "test-passphrase")
    wallets = {"main": main or {}, "trade": trade or {}, "trade_hf": trade_hf or {}}

    def accounts(query: dict[str, str]) -> Body:
        kinds = [query["type"]] if "type" in query else list(wallets)
        return _ok([{"id": f"{kind}-{code}", "currency": code, "type": kind, "balance": v, "available": v,
                     "holds": "0"} for kind in kinds for code, v in wallets.get(kind, {}).items()])

    def side(code: str, total: str, liability: str) -> dict[str, Any]:
        return {"currency": code, "borrowEnabled": True, "transferInEnabled": True, "liability": liability,
                "total": total, "available": total, "hold": "0", "maxBorrowSize": "0"}

    def overview(query: dict[str, str]) -> Body:
        code = query.get("currency", "XBT")
        equity = (futures or {}).get(code, "0")
        return _ok({"accountEquity": float(equity), "unrealisedPNL": 0, "marginBalance": float(equity),
                    "positionMargin": 0, "orderMargin": 0, "frozenFunds": 0, "availableBalance": float(equity),
                    "currency": code, "riskRatio": 0, "maxWithdrawAmount": float(equity)})

    def hf_fill_list(query: dict[str, str]) -> Body:
        if not query.get("symbol"):
            raise VenueRefusal(400, _error("400100", "symbol is required"))
        limit = int(query.get("limit", 20))
        if not 1 <= limit <= 100:
            raise VenueRefusal(400, _error("400100", "limit should not greater than 100"))
        start, end = int(query.get("startAt", 0)), int(query.get("endAt", 2**62))
        rows = sorted((f for f in hf_fills or [] if f["symbol"] == query["symbol"] and start <= f["createdAt"] <= end),
                      key=lambda f: -f["id"])
        if "lastId" in query:
            rows = [f for f in rows if f["id"] < int(query["lastId"])]
        page = rows[:limit]
        return _ok({"items": page, "lastId": page[-1]["id"] if page else None})

    responses: dict[str, Any] = {
        "/api/v1/hf/accounts/opened": _ok(hf),
        "/api/ua/v1/account/mode": _ok({"selfAccountMode": "CLASSIC", "subAccountMode": []}),
        "/api/v3/margin/symbols": _ok({"timestamp": NOW_MS, "items": [
            {"symbol": f"{b}-USDT", "name": f"{b}-USDT", "enableTrading": True, "market": "USDS", "baseCurrency": b,
             "quoteCurrency": "USDT", "baseIncrement": "0.00000001", "baseMinSize": "0.00001",
             "quoteIncrement": "0.000001", "quoteMinSize": "0.1", "baseMaxSize": "1000", "quoteMaxSize": "999999",
             "priceIncrement": "0.1", "feeCurrency": "USDT", "priceLimitRate": "0.1", "minFunds": "0.1"}
            for b in ("BTC", "ETH")]}),
        "/api/v1/isolated/symbols": _ok([
            {"symbol": "BTC-USDT", "symbolName": "BTC-USDT", "baseCurrency": "BTC", "quoteCurrency": "USDT",
             "maxLeverage": 10, "flDebtRatio": "0.97", "tradeEnable": True, "autoRenewMaxDebtRatio": "0.96",
             "baseBorrowEnable": True, "quoteBorrowEnable": True, "baseTransferInEnable": True,
             "quoteTransferInEnable": True, "baseBorrowCoefficient": "1", "quoteBorrowCoefficient": "1"}]),
        "/api/v1/accounts": accounts,
        "/api/v3/margin/accounts": _ok({"totalAssetOfQuoteCurrency": "0", "totalLiabilityOfQuoteCurrency": "0",
                                        "debtRatio": "0", "status": "EFFECTIVE", "accounts": [
                                            side(c, t, lia) for c, (t, lia) in (cross_margin or {}).items()]}),
        "/api/v3/isolated/accounts": _ok({"totalAssetOfQuoteCurrency": "0", "totalLiabilityOfQuoteCurrency": "0",
                                          "timestamp": NOW_MS, "assets": [
                                              {"symbol": symbol, "status": "EFFECTIVE", "debtRatio": "0",
                                               "baseAsset": side(*base), "quoteAsset": side(*quote)}
                                              for symbol, (base, quote) in (isolated_margin or {}).items()]}),
        "/api/v1/account-overview": overview,
        "/api/v1/positions": _ok(positions or []),
        "/api/v1/earn/hold-assets": lambda q: _ok({
            "totalNum": len(earn or {}), "currentPage": int(q.get("currentPage", 1)),
            "pageSize": int(q.get("pageSize", 15)), "totalPage": 1, "items": [
                {"orderId": f"e{code}", "productId": "2611", "productCategory": "DEMAND", "productType": "DEMAND",
                 "currency": code, "incomeCurrency": code, "returnRate": "0.03", "holdAmount": amount,
                 "redeemedAmount": "0", "redeemingAmount": "0", "lockStartTime": NOW_MS, "lockEndTime": None,
                 "purchaseTime": NOW_MS, "redeemPeriod": 3, "status": "LOCKED", "earlyRedeemSupported": 0}
                for code, amount in (earn or {}).items()]}),
        "/api/v1/deposits": _paged(deposits or []),
        "/api/v1/withdrawals": _paged(withdrawals or []),
        "/api/v1/hf/fills": hf_fill_list,
        # spot (classic account) and futures host share this path: a spot symbol has a dash (BTC-USDT),
        # a contract none (XBTUSDTM); the futures endpoint is asked without a symbol for every contract
        "/api/v1/fills": lambda q: (_paged([]) if "-" in q.get("symbol", "") else _paged(
            [f for f in futures_fills or [] if q.get("symbol", f["symbol"]) == f["symbol"]], page_max=1000))(q),
        "/api/v1/user/api-key": _ok({"remark": "zka", "apiKey": credentials.get("api_key", "test-api-key-0001"),
                                     "apiVersion": 3, "permission": permission, "ipWhitelist": "",
                                     "createdAt": NOW_MS, "uid": 165111215, "isMaster": True}),
    }
    return Scenario(responses=responses, prices=prices or {}, **credentials)


PRICES = {"BTC/USDT": "50000", "ETH/USDT": "3000", "USDC/USDT": "0.9998", "KCS/USDT": "10", "DOT/BTC": "0.00014"}
E2E = (lambda: scenario(prices=PRICES, trade_hf={"BTC": "0.5", "USDT": "1000"}), "26000")  # 0.5 x 50,000 + 1,000
MALFORMED = (lambda: scenario(prices=PRICES, trade={"BTC": "0.5"}), "/api/v1/accounts")
