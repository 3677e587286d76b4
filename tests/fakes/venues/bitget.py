"""Fake Bitget (API v2, classic account): signatures checked, documented formats, loopback HTTP.

PROVENANCE of every format (read 2026-12; bitget.com/api-doc, mirrored on bitget.cc / bitgetapp.com):
- signing: "ACCESS-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath [+ '?' + queryString]
  + body))" with ACCESS-KEY / ACCESS-TIMESTAMP / ACCESS-PASSPHRASE headers (api-doc/common/signature);
  errors 40001 "ACCESS_KEY cannot be empty", 40006 "Invalid ACCESS_KEY", 40009 "sign signature error",
  40012 "apikey/password is incorrect" (the codes ccxt 4.5.64 maps to AuthenticationError); HTTP 400.
- markets: GET /api/v2/spot/public/symbols, /api/v2/margin/currencies, /api/v2/mix/market/contracts
  (fields as in ccxt 4.5.64 bitget.py fetch_default_markets / parse_market comments, which quote the docs).
- tickers: GET /api/v2/spot/market/tickers (spot/market/Get-Tickers: lastPr, bidPr, askPr, ...).
- balances: spot/account/Get-Account-Assets (coin, available, frozen, locked, limitAvailable, uTime);
  contract/account/Get-Account-List (marginCoin, accountEquity incl. unrealized PnL, unrealizedPL, ...);
  margin/cross/account/Get-Cross-Assets and margin/isolated/account/Get-Isolated-Assets (totalAmount,
  borrow, interest, net, ...); common/account/Funding-Assets (GET /api/v2/account/funding-assets: coin,
  available, frozen, usdtValue); earn/account/Earn-Assets (GET /api/v2/earn/account/assets: coin, amount).
- positions: contract/position/get-all-position (productType and marginCoin required; unrealizedPL).
- key permissions: spot/account/Get-Account-Info, `authorities`: read-only codes coor cpor stor smor ttor
  wtor taxr chor p2pr, read-write codes coow cpow stow smow ttow wtow wwow (wallet withdrawal) chow p2p.
- deposits / withdrawals: spot/wallet/Get-Deposit-Record and Get-Withdraw-Record: startTime and endTime
  required, `limit` default 20 and at most 100, `idLessThan` = an orderId: older rows; rows orderId, tradeId,
  coin, type ("deposit" / "withdraw"), size, fee (withdrawals, negative), status (pending, success, fail),
  dest (on_chain, internal_transfer), cTime, uTime. Newest first. The row set is ccxt's static test
  fixture's (ts/src/test/static/response/bitget.json, fetchWithdrawals: size 30, fee -1.5).
- funding fees: contract/account/Get-Account-Bill (GET /api/v2/mix/account/bill: productType required,
  businessType contract_settle_fee, limit at most 100, idLessThan, data {bills, endId}).
- fills: spot/trade/Get-Fills (limit default and at most 100, idLessThan = a tradeId, newest first) and
  contract/trade/Get-Order-Fills ({fillList, endId}).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from tests.fakes.ccxt_venues import IN_WINDOW_MS, Adapter, Body, Reply, Scenario, VenueRefusal

PRODUCT_TYPES = ("USDT-FUTURES", "COIN-FUTURES", "USDC-FUTURES", "SUSDT-FUTURES", "SCOIN-FUTURES", "SUSDC-FUTURES")
NOW_MS = 1714953599000
PAGE_MAX = 100


def _ok(data: Any) -> dict[str, Any]:
    return {"code": "00000", "msg": "success", "requestTime": NOW_MS, "data": data}


def _error(code: str, msg: str) -> dict[str, Any]:
    return {"code": code, "msg": msg, "requestTime": NOW_MS, "data": None}


def _spot_symbol(base: str, quote: str) -> dict[str, Any]:
    return {"symbol": f"{base}{quote}", "baseCoin": base, "quoteCoin": quote, "minTradeAmount": "0",
            "maxTradeAmount": "10000000000", "takerFeeRate": "0.001", "makerFeeRate": "0.001",
            "pricePrecision": "2", "quantityPrecision": "6", "quotePrecision": "6", "status": "online",
            "minTradeUSDT": "5", "buyLimitPriceRatio": "0.05", "sellLimitPriceRatio": "0.05",
            "areaSymbol": "no", "orderQuantity": "200", "openTime": "1532454360000"}


def _contract(symbol: str, base: str, quote: str, margin_coins: list[str]) -> dict[str, Any]:
    return {"symbol": symbol, "baseCoin": base, "quoteCoin": quote, "buyLimitPriceRatio": "0.9",
            "sellLimitPriceRatio": "0.9", "feeRateUpRatio": "0.1", "makerFeeRate": "0.0004",
            "takerFeeRate": "0.0006", "openCostUpRatio": "0.1", "supportMarginCoins": margin_coins,
            "minTradeNum": "0.01", "priceEndStep": "1", "volumePlace": "2", "pricePlace": "1",
            "sizeMultiplier": "0.01", "symbolType": "perpetual", "minTradeUSDT": "5", "maxSymbolOrderNum": "999999",
            "maxProductOrderNum": "999999", "maxPositionNum": "150", "symbolStatus": "normal", "offTime": "-1",
            "limitOpenTime": "-1", "deliveryTime": "", "deliveryStartTime": "", "deliveryPeriod": "",
            "launchTime": "", "fundInterval": "8", "minLever": "1", "maxLever": "125", "posLimit": "0.05",
            "maintainTime": ""}


# Spot markets: LTC trades only against BTC here (priced through BTC/USDT); no USD market at all.
SPOT = [("BTC", "USDT"), ("ETH", "USDT"), ("USDC", "USDT"), ("LTC", "BTC"), ("BGB", "USDT")]
CONTRACTS = {
    "USDT-FUTURES": [_contract("BTCUSDT", "BTC", "USDT", ["USDT"])],
    "USDC-FUTURES": [_contract("BTCPERP", "BTC", "USDC", ["USDC"])],
    "COIN-FUTURES": [_contract("BTCUSD", "BTC", "USD", ["BTC", "ETH"])],
}


def _margin_pair(base: str, quote: str) -> dict[str, Any]:
    return {"symbol": f"{base}{quote}", "baseCoin": base, "quoteCoin": quote, "maxCrossedLeverage": "3",
            "maxIsolatedLeverage": "10", "warningRiskRatio": "0.8", "liquidationRiskRatio": "1",
            "minTradeAmount": "0.0001", "maxTradeAmount": "10000", "takerFeeRate": "0.001", "makerFeeRate": "0.001",
            "pricePrecision": "2", "quantityPrecision": "6", "minTradeUSDT": "5", "isBorrowable": True,
            "userMinBorrow": "0", "status": "1", "isIsolatedBaseBorrowable": True,
            "isIsolatedQuoteBorrowable": True, "isCrossBorrowable": True}


def _ticker(symbol: str, price: str) -> dict[str, Any]:
    return {"open": price, "symbol": symbol, "high24h": price, "low24h": price, "lastPr": price,
            "quoteVolume": "0", "baseVolume": "0", "usdtVolume": "0", "ts": str(NOW_MS), "bidPr": price,
            "askPr": price, "bidSz": "1", "askSz": "1", "openUtc": price, "changeUtc24h": "0", "change24h": "0"}


class BitgetAdapter(Adapter):
    name = "bitget"
    _PUBLIC = ("/api/v2/spot/public/", "/api/v2/spot/market/", "/api/v2/mix/market/", "/api/v2/margin/currencies",
               "/api/v2/public/")

    def public(self, path: str) -> bool:
        return path.startswith(self._PUBLIC)

    def verify(self, scenario: Scenario, request: Request, path: str, query: str, body: bytes) -> Reply | None:
        key, sign = request.headers.get("ACCESS-KEY"), request.headers.get("ACCESS-SIGN")
        stamp = request.headers.get("ACCESS-TIMESTAMP")
        if not key:
            return 400, _error("40001", "ACCESS_KEY cannot be empty")
        if not sign or not stamp:
            return 400, _error("40009", "sign signature error")
        if scenario.permissive:
            return None
        if key != scenario.api_key:
            return 400, _error("40006", "Invalid ACCESS_KEY")
        if request.headers.get("ACCESS-PASSPHRASE") != scenario.passphrase:
            return 400, _error("40012", "apikey/password is incorrect")
        prehash = stamp + request.method + path + (f"?{query}" if query else "") + body.decode()
        expected = base64.b64encode(hmac.new(scenario.api_secret.encode(), prehash.encode(), hashlib.sha256)
                                    .digest()).decode()
        if not hmac.compare_digest(expected, sign):
            return 400, _error("40009", "sign signature error")
        return None

    def builtin(self, scenario: Scenario, path: str, query: dict[str, str]) -> Body | None:
        if path == "/api/v2/spot/public/symbols":
            return _ok([_spot_symbol(base, quote) for base, quote in SPOT])
        if path == "/api/v2/margin/currencies":
            return _ok([_margin_pair("BTC", "USDT"), _margin_pair("ETH", "USDT")])
        if path == "/api/v2/mix/market/contracts":
            if query.get("productType") not in PRODUCT_TYPES:
                raise VenueRefusal(400, _error("40019", "Parameter productType cannot be empty"))
            return _ok(CONTRACTS.get(query["productType"], []))
        if path == "/api/v2/spot/market/tickers":
            return _ok([_ticker(symbol.replace("/", ""), price) for symbol, price in scenario.prices.items()])
        return None

    def not_found(self, path: str) -> Reply:
        return 404, _error("40404", f"Request URL NOT FOUND: {path}")


ADAPTER = BitgetAdapter


def _history(rows: list[dict[str, Any]]) -> Callable[[dict[str, str]], Body]:
    """Deposit / withdrawal records: startTime and endTime required (on cTime), limit 1..100 (default 20),
    newest first (orderId descending), `idLessThan` an orderId: rows older than it."""

    def answer(query: dict[str, str]) -> Body:
        if "startTime" not in query or "endTime" not in query:
            raise VenueRefusal(400, _error("40019", "Parameter startTime cannot be empty"))
        limit = int(query.get("limit", 20))
        if not 1 <= limit <= PAGE_MAX:
            raise VenueRefusal(400, _error("40017", "Parameter verification failed limit"))
        start, end = int(query["startTime"]), int(query["endTime"])
        out = sorted((r for r in rows if start <= int(r["cTime"]) <= end), key=lambda r: int(r["orderId"]),
                     reverse=True)
        if "idLessThan" in query:
            out = [r for r in out if int(r["orderId"]) < int(query["idLessThan"])]
        return _ok(out[:limit])

    return answer


def deposit(order_id: str, coin: str, size: str, ms: int, status: str = "success",
            dest: str = "on_chain") -> dict[str, Any]:
    return {"orderId": order_id, "tradeId": f"0x{order_id}", "coin": coin, "type": "deposit", "size": size,
            "status": status, "toAddress": "TKtjsywjRu4HechtABGJBVhkDJtwYcMVfc", "dest": dest, "chain": "TRC20",
            "fromAddress": "TFcWfiw5p5DDZ6vi6Bktf7yK1asRYLpN33", "cTime": str(ms), "uTime": str(ms + 30_000)}


def withdrawal(order_id: str, coin: str, size: str, fee: str, ms: int, status: str = "success") -> dict[str, Any]:
    """`size` is what left the balance, `fee` (negative) the part of it bitget kept (ccxt's fixture:
    size 30, fee -1.5, parsed as amount 28.5 + fee 1.5)."""
    return {"orderId": order_id, "tradeId": f"0x{order_id}", "clientOid": None, "coin": coin, "type": "withdraw",
            "size": size, "fee": fee, "status": status, "toAddress": "TFcWfiw5p5DDZ6vi6Bktf7yK1asRYLpN33",
            "dest": "on_chain", "chain": "TRC20", "confirm": "5", "fromAddress": "TU8P3KLsV7YhkUvF9nWxjigMqv2c2mqNC9",
            "tag": "", "cTime": str(ms), "uTime": str(ms + 160_000)}


def bill(bill_id: str, product: str, symbol: str, coin: str, amount: str, ms: int,
         business: str = "contract_settle_fee") -> dict[str, Any]:
    """A futures account bill (contract/account/Get-Account-Bill); `productType` only routes it in the fake."""
    return {"productType": product, "billId": bill_id, "symbol": symbol, "amount": amount, "fee": "0",
            "feeByCoupon": "", "businessType": business, "coin": coin, "balance": "0", "cTime": str(ms)}


def futures_fill(trade_id: str, product: str, symbol: str, price: str, size: str, fee: str, fee_coin: str,
                 ms: int) -> dict[str, Any]:
    """A fill of GET /api/v2/mix/order/fills (contract/trade/Get-Order-Fills); sizes in the base coin."""
    return {"tradeId": trade_id, "symbol": symbol, "orderId": f"9{trade_id}", "price": price, "baseVolume": size,
            "feeDetail": [{"deduction": "no", "feeCoin": fee_coin, "totalDeductionFee": "0", "totalFee": f"-{fee}"}],
            "side": "buy", "quoteVolume": str(float(price) * float(size)), "profit": "0", "enterPointSource": "api",
            "tradeSide": "open", "posMode": "one_way_mode", "tradeScope": "taker", "cTime": str(ms),
            "productType": product.lower()}


def _futures_account(coin: str, equity: str, upl: str) -> dict[str, Any]:
    return {"marginCoin": coin, "locked": "0", "available": equity, "crossedMaxAvailable": equity,
            "isolatedMaxAvailable": equity, "maxTransferOut": equity, "accountEquity": equity, "usdtEquity": "",
            "btcEquity": "", "crossedRiskRate": "0", "unrealizedPL": upl, "coupon": "0", "unionTotalMagin": "",
            "unionAvailable": "", "unionMm": "", "assetList": [], "isolatedMargin": "0", "crossedMargin": "0",
            "crossedUnrealizedPL": upl, "isolatedUnrealizedPL": "0", "assetMode": "single"}


def position(symbol: str, margin_coin: str, side: str, size: str, upl: str, product: str) -> dict[str, Any]:
    return {"marginCoin": margin_coin, "symbol": symbol, "holdSide": side, "openDelegateSize": "0",
            "marginSize": "100", "available": size, "locked": "0", "total": size, "leverage": "10",
            "achievedProfits": "0", "openPriceAvg": "50000", "marginMode": "crossed", "posMode": "one_way_mode",
            "unrealizedPL": upl, "liquidationPrice": "0", "keepMarginRate": "0.004", "markPrice": "50000",
            "marginRatio": "0.01", "breakEvenPrice": "50000", "totalFee": "", "deductedFee": "0",
            "cTime": str(IN_WINDOW_MS), "uTime": str(IN_WINDOW_MS), "autoMargin": "off", "productType": product}


def _margin_asset(coin: str, total: str, borrow: str, symbol: str | None = None) -> dict[str, Any]:
    row = {"coin": coin, "totalAmount": total, "available": total, "frozen": "0", "borrow": borrow,
           "interest": "0", "net": str(float(total) - float(borrow)), "coupon": "0", "cTime": str(NOW_MS),
           "uTime": str(NOW_MS)}
    return {"symbol": symbol, **row} if symbol else row


READ_ONLY = ["coor", "cpor", "stor", "smor", "wtor"]


def scenario(
    spot: dict[str, str] | None = None,
    prices: dict[str, str] | None = None,
    *,
    futures: dict[str, dict[str, tuple[str, str]]] | None = None,
    cross_margin: dict[str, tuple[str, str]] | None = None,
    isolated_margin: dict[str, list[tuple[str, str, str]]] | None = None,
    funding: dict[str, str] | None = None,
    earn: dict[str, str] | None = None,
    positions: dict[str, list[dict[str, Any]]] | None = None,
    deposits: list[dict[str, Any]] | None = None,
    withdrawals: list[dict[str, Any]] | None = None,
    spot_fills: list[dict[str, Any]] | None = None,
    futures_fills: list[dict[str, Any]] | None = None,
    bills: list[dict[str, Any]] | None = None,
    authorities: list[str] | None = None,
    **credentials: Any,
) -> Scenario:
    """spot / funding / earn: coin -> amount. futures: productType -> marginCoin -> (accountEquity, unrealizedPL).
    cross_margin: coin -> (totalAmount, borrow); isolated_margin: symbol -> [(coin, totalAmount, borrow)].
    positions: productType -> all-position rows (see `position`)."""
    credentials.setdefault("passphrase", "test-passphrase")
    fut, pos = futures or {}, positions or {}

    def mix_accounts(query: dict[str, str]) -> Body:
        if query.get("productType") not in PRODUCT_TYPES:
            raise VenueRefusal(400, _error("40019", "Parameter productType cannot be empty"))
        return _ok([_futures_account(c, eq, upl) for c, (eq, upl) in fut.get(query["productType"], {}).items()])

    def all_position(query: dict[str, str]) -> Body:
        if query.get("productType") not in PRODUCT_TYPES or not query.get("marginCoin"):
            raise VenueRefusal(400, _error("40019", "Parameter marginCoin cannot be empty"))
        return _ok([p for p in pos.get(query["productType"], []) if p["marginCoin"] == query["marginCoin"]])

    def spot_trade_fills(query: dict[str, str]) -> Body:
        """limit default and at most 100; newest first; idLessThan = a tradeId: older fills."""
        limit = int(query.get("limit", 100))
        if not 1 <= limit <= PAGE_MAX:
            raise VenueRefusal(400, _error("40017", "Parameter verification failed limit"))
        start, end = int(query.get("startTime", 0)), int(query.get("endTime", 2**62))
        out = sorted((f for f in spot_fills or [] if f["symbol"] == query.get("symbol")
                      and start <= int(f["cTime"]) <= end), key=lambda f: int(f["tradeId"]), reverse=True)
        if "idLessThan" in query:
            out = [f for f in out if int(f["tradeId"]) < int(query["idLessThan"])]
        return _ok(out[:limit])

    def mix_fills(query: dict[str, str]) -> Body:
        """productType required, symbol optional; limit at most 100; newest first; idLessThan = a tradeId;
        data {fillList, endId}."""
        if query.get("productType") not in PRODUCT_TYPES:
            raise VenueRefusal(400, _error("40019", "Parameter productType cannot be empty"))
        limit = int(query.get("limit", 100))
        if not 1 <= limit <= PAGE_MAX:
            raise VenueRefusal(400, _error("40017", "Parameter verification failed limit"))
        start, end = int(query.get("startTime", 0)), int(query.get("endTime", 2**62))
        rows = sorted((f for f in futures_fills or [] if f["productType"] == query["productType"].lower()
                       and f["symbol"] == query.get("symbol", f["symbol"]) and start <= int(f["cTime"]) <= end
                       and int(f["tradeId"]) < int(query.get("idLessThan", 2**62))),
                      key=lambda f: -int(f["tradeId"]))[:limit]
        return _ok({"fillList": rows, "endId": rows[-1]["tradeId"] if rows else None})

    def account_bill(query: dict[str, str]) -> Body:
        """productType required; businessType, startTime/endTime (on cTime) filter; limit at most 100;
        newest first; idLessThan = a billId; data {bills, endId}."""
        if query.get("productType") not in PRODUCT_TYPES:
            raise VenueRefusal(400, _error("40019", "Parameter productType cannot be empty"))
        limit = int(query.get("limit", 20))
        if not 1 <= limit <= PAGE_MAX:
            raise VenueRefusal(400, _error("40017", "Parameter verification failed limit"))
        start, end = int(query.get("startTime", 0)), int(query.get("endTime", 2**62))
        rows = sorted((b for b in bills or [] if b["productType"] == query["productType"]
                       and b["businessType"] == query.get("businessType", b["businessType"])
                       and start <= int(b["cTime"]) <= end
                       and int(b["billId"]) < int(query.get("idLessThan", 2**62))),
                      key=lambda b: -int(b["billId"]))[:limit]
        return _ok({"bills": [{k: v for k, v in b.items() if k != "productType"} for b in rows],
                    "endId": rows[-1]["billId"] if rows else None})

    responses: dict[str, Any] = {
        "/api/v2/mix/account/bill": account_bill,
        "/api/v2/spot/account/assets": _ok([
            {"coin": c, "available": v, "limitAvailable": "0", "frozen": "0", "locked": "0", "uTime": str(NOW_MS)}
            for c, v in (spot or {}).items()]),
        "/api/v2/mix/account/accounts": mix_accounts,
        "/api/v2/margin/crossed/account/assets": _ok([_margin_asset(c, t, b) for c, (t, b) in
                                                      (cross_margin or {}).items()]),
        "/api/v2/margin/isolated/account/assets": _ok([_margin_asset(c, t, b, symbol)
                                                       for symbol, rows in (isolated_margin or {}).items()
                                                       for c, t, b in rows]),
        "/api/v2/account/funding-assets": _ok([{"coin": c, "available": v, "frozen": "0", "usdtValue": ""}
                                               for c, v in (funding or {}).items()]),
        "/api/v2/earn/account/assets": _ok([{"coin": c, "amount": v} for c, v in (earn or {}).items()]),
        "/api/v2/mix/position/all-position": all_position,
        "/api/v2/spot/wallet/deposit-records": _history(deposits or []),
        "/api/v2/spot/wallet/withdrawal-records": _history(withdrawals or []),
        "/api/v2/spot/trade/fills": spot_trade_fills,
        "/api/v2/mix/order/fills": mix_fills,
        "/api/v2/spot/account/info": _ok({"userId": "1234567890", "inviterId": "", "ips": "",
                                         "authorities": authorities if authorities is not None else READ_ONLY,
                                         "parentId": 1234567890, "traderType": "not_trader", "channelCode": "",
                                         "channel": "", "regisTime": "1700000000000"}),
    }
    return Scenario(responses=responses, prices=prices or {}, **credentials)


PRICES = {"BTC/USDT": "50000", "ETH/USDT": "3000", "USDC/USDT": "0.9998", "LTC/BTC": "0.0016"}
E2E = (lambda: scenario({"BTC": "0.5", "USDT": "1000"}, PRICES), "26000")  # 0.5 x 50,000 + 1,000
MALFORMED = (lambda: scenario({"BTC": "0.5"}, PRICES), "/api/v2/spot/account/assets")
