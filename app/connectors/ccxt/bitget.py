"""bitget (API v2, classic account): what ccxt 4.5.64 reads wrongly or not at all, read from the endpoints.

- Withdrawals: ccxt passes bitget's type "withdraw" through, so every withdrawal failed the
  deposit/withdrawal filter and was never counted. Deposits and withdrawals are read here and typed.
- History pages: bitget serves at most 100 rows a request (default 20) and pages with `idLessThan`
  (an orderId); ccxt's paginator looks for a row field named `idLessThan`, finds none and stops after
  the first page. Here each piece asks 100 rows and walks back by the smallest orderId to a short page.
- A withdrawal's `size` is taken as what left the balance and `fee` (negative) as the part bitget kept:
  amount size - |fee| and fee |fee|, as ccxt parses it (its fixture: size 30, fee -1.5 -> 28.5 + 1.5),
  so the flow counts `size`. bitget's docs do not say whether `size` includes the fee; if it does not,
  a withdrawal is undercounted by its fee. Completed = status "success" (others: pending, fail); dated
  by cTime (creation), as ccxt does: a late completion is picked up by the connector's flow look-back
  and memory.
- Wallets ccxt's fetch_balance does not read: funding (P2P) assets and the Earn account; isolated
  margin, where ccxt keys one row per coin although bitget answers one row per coin *per pair*
  (a second pair's USDT replaced the first's).
- Spot and futures fills: ccxt's paginator has no cursor field for spot fills and looks for `endId` in
  each futures fill (it is on the page, not the rows): both stopped after one page (100 fills). Here
  they are paged by `idLessThan` = the smallest tradeId until a short page.
- Funding fees: ccxt wants a symbol per request; the account bill (businessType contract_settle_fee)
  is read here per product, 100 a page, walking back by `idLessThan` = the previous page's endId.
- Balance shape: ccxt hands only the body's `data` to its parser (and `[]` when there is none), so a
  200 with unrelated JSON read as an empty account. The balance endpoints' raw bodies are checked
  here: {"code": "00000", "data": [rows]} or the answer is malformed.
- Positions: the all-position endpoint wants a productType and a marginCoin; ccxt asks USDT-FUTURES
  only (and marginCoin "USDT" for coin-margined ones). Every product is asked, coin-margined once per
  margin coin the COIN-FUTURES wallet holds.
Not read: unified trading accounts (UTA, API v3; bitget now recommends them and keeps the classic account
in maintenance mode). No documented read-only call was found that tells the two apart, so a UTA key is
not detected yet: its classic wallets read as they answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from app.connectors.base import ConnectorError, DayWindow, MalformedResponse
from app.connectors.ccxt.holdings import Holding
from app.connectors.ccxt.profiles import MAX_SPAN
from app.core.money import ZERO, to_decimal

PAGE = 100  # bitget: `limit` at most 100 on deposit and withdrawal records
MAX_PAGES = 100  # 10,000 rows of one kind in one piece: refuse rather than lose any
_HISTORY = (("deposit", "privateSpotGetV2SpotWalletDepositRecords"),
            ("withdrawal", "privateSpotGetV2SpotWalletWithdrawalRecords"))
# productType -> margin coin for all-position; COIN-FUTURES: each coin of that wallet
_LINEAR_PRODUCTS = (("USDT-FUTURES", "USDT"), ("USDC-FUTURES", "USDC"))
COIN_FUTURES_WALLET = "coin-futures"


# ccxt's implicit methods behind fetch_balance (spot, futures, cross and isolated margin)
BALANCE_METHODS = ("privateSpotGetV2SpotAccountAssets", "privateMixGetV2MixAccountAccounts",
                   "privateMarginGetV2MarginCrossedAccountAssets", "privateMarginGetV2MarginIsolatedAccountAssets")


def adapt(exchange: Any) -> None:
    """Fix the client's bitget reads in place: raw balance bodies checked, fills paged whole."""
    check_balance_bodies(exchange)
    page_fills(exchange)


def check_balance_bodies(exchange: Any) -> None:
    """Wrap the client's balance calls so a body without a `data` list raises MalformedResponse."""
    for method in BALANCE_METHODS:
        original = getattr(exchange, method)

        async def checked(params: Any = None, *, _call: Any = original, _name: str = method) -> Any:
            body = await _call({} if params is None else params)
            _data(body, _name)
            return body

        setattr(exchange, method, checked)


def page_fills(exchange: Any) -> None:
    """fetch_my_trades with paginate on a spot (not margin) or futures symbol: 100 fills a request, then
    `idLessThan` = the smallest tradeId seen, until a short page; other calls go to ccxt unchanged."""
    original = exchange.fetch_my_trades

    async def fetch_my_trades(symbol: Any = None, since: Any = None, limit: Any = None, params: Any = None) -> Any:
        params = dict(params or {})
        market = exchange.market(symbol) if symbol is not None else {}
        pageable = (market.get("spot") and "marginMode" not in params) or market.get("swap")
        if not (pageable and params.pop("paginate", False)):
            return await original(symbol, since, limit, params)
        for name in ("paginationCalls", "maxEntriesPerRequest"):
            params.pop(name, None)
        trades: dict[str, Any] = {}
        cursor: int | None = None
        for _ in range(MAX_PAGES):
            page = await original(symbol, since, PAGE, {**params, **({"idLessThan": str(cursor)} if cursor else {})})
            trades.update((str(trade.get("id")), trade) for trade in page)
            ids = [int(str(trade.get("id"))) for trade in page if str(trade.get("id")).isdigit()]
            if len(page) < PAGE or not ids:
                return list(trades.values())
            cursor = min(ids)
        raise ConnectorError(f"bitget: more than {MAX_PAGES * PAGE} fills of {symbol} in one request range")

    exchange.fetch_my_trades = fetch_my_trades


def _data(body: Any, what: str) -> list[Mapping[str, Any]]:
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, list):
        raise MalformedResponse(f"bitget: {what} response without a data list")
    return [row for row in data if isinstance(row, Mapping)]


async def bitget_flows(exchange: Any, window: DayWindow) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for piece in window.split(MAX_SPAN):
        for kind, method in _HISTORY:
            rows = await _pages(exchange, method, {"startTime": piece.start_ms, "endTime": piece.end_ms - 1})
            out += [_transaction(exchange, row, kind) for row in rows]
    return out


async def _pages(exchange: Any, method: str, request: dict[str, Any]) -> list[Mapping[str, Any]]:
    rows: dict[str, Mapping[str, Any]] = {}
    cursor: int | None = None
    for _ in range(MAX_PAGES):
        page = _data(await getattr(exchange, method)(
            {**request, "limit": PAGE, **({"idLessThan": str(cursor)} if cursor is not None else {})}), method)
        rows.update((str(row.get("orderId")), row) for row in page)
        ids = [int(str(row.get("orderId"))) for row in page if str(row.get("orderId")).isdigit()]
        if len(page) < PAGE or not ids:
            return list(rows.values())
        cursor = min(ids)
    raise ConnectorError(f"bitget: more than {MAX_PAGES * PAGE} deposits or withdrawals in one request range")


def _transaction(exchange: Any, row: Mapping[str, Any], kind: str) -> dict[str, Any]:
    code = exchange.safe_currency_code(row.get("coin"))
    size = to_decimal(row.get("size"))
    fee = abs(to_decimal(row.get("fee"))) if kind == "withdrawal" else ZERO
    created = str(row.get("cTime") or "")
    return {"type": kind, "currency": code, "amount": size - fee,
            "fee": {"currency": code, "cost": fee} if kind == "withdrawal" else None,
            "status": "ok" if row.get("status") == "success" else str(row.get("status")),
            "timestamp": int(created) if created.isdigit() else None,
            "id": f"{kind}:{row.get('orderId')}", "txid": row.get("tradeId")}


async def _funding(exchange: Any) -> Holding:
    """Funding (P2P) assets: available + frozen per coin."""
    rows = _data(await exchange.privateSpotGetV2AccountFundingAssets(), "funding-assets")
    return Holding("funding", "spot", _sum(exchange, rows, ("available", "frozen")))


async def _earn(exchange: Any) -> Holding:
    """Earn account: amount per coin."""
    rows = _data(await exchange.privateEarnGetV2EarnAccountAssets(), "earn assets")
    return Holding("earn", "earn", _sum(exchange, rows, ("amount",)))


async def _isolated_margin(exchange: Any) -> Holding:
    """Isolated margin: one row per coin per pair; net = totalAmount - borrow - interest, summed per coin."""
    rows = _data(await exchange.privateMarginGetV2MarginIsolatedAccountAssets(), "isolated margin assets")
    amounts: dict[str, Decimal] = {}
    for row in rows:
        net = to_decimal(row.get("totalAmount")) - to_decimal(row.get("borrow")) - to_decimal(row.get("interest"))
        if net != ZERO:
            code = exchange.safe_currency_code(row.get("coin"))
            amounts[code] = amounts.get(code, ZERO) + net
    return Holding("isolated-margin", "margin", amounts)


# wallets read beside fetch_balance: (name, reader); each is skipped (and logged) if the key may not read it
EXTRA_WALLETS: tuple[tuple[str, Callable[[Any], Awaitable[Holding]]], ...] = (
    ("funding", _funding), ("earn", _earn), ("isolated-margin", _isolated_margin))


def _sum(exchange: Any, rows: Iterable[Mapping[str, Any]], fields: tuple[str, ...]) -> dict[str, Decimal]:
    amounts: dict[str, Decimal] = {}
    for row in rows:
        amount = sum((to_decimal(row.get(name)) for name in fields), ZERO)
        if amount != ZERO:
            code = exchange.safe_currency_code(row.get("coin"))
            amounts[code] = amounts.get(code, ZERO) + amount
    return amounts


FUNDING_PRODUCTS = ("USDT-FUTURES", "USDC-FUTURES", "COIN-FUTURES")


async def bitget_funding(exchange: Any, window: DayWindow) -> list[dict[str, Any]]:
    """Funding fees of the window from GET /api/v2/mix/account/bill, in ccxt's funding-history shape
    (amount: + received, - paid, as bitget signs it)."""
    out: list[dict[str, Any]] = []
    for piece in window.split(MAX_SPAN):
        for product in FUNDING_PRODUCTS:
            request = {"productType": product, "businessType": "contract_settle_fee", "startTime": piece.start_ms,
                       "endTime": piece.end_ms - 1, "limit": PAGE}
            out += [_funding_entry(exchange, bill) for bill in await _bill_pages(exchange, request)]
    return out


async def _bill_pages(exchange: Any, request: dict[str, Any]) -> list[Mapping[str, Any]]:
    bills: dict[str, Mapping[str, Any]] = {}
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        body = await exchange.privateMixGetV2MixAccountBill({**request, **({"idLessThan": cursor} if cursor else {})})
        data = body.get("data") if isinstance(body, Mapping) else None
        page = data.get("bills") if isinstance(data, Mapping) else None
        if not isinstance(page, list):
            raise MalformedResponse("bitget: account bill response without bills")
        bills.update((str(bill.get("billId")), bill) for bill in page if isinstance(bill, Mapping))
        cursor = str(data.get("endId") or "") if isinstance(data, Mapping) else ""
        if len(page) < PAGE or not cursor:
            return list(bills.values())
    raise ConnectorError(f"bitget: more than {MAX_PAGES * PAGE} funding bills in one request range")


def _funding_entry(exchange: Any, bill: Mapping[str, Any]) -> dict[str, Any]:
    created = str(bill.get("cTime") or "")
    return {"symbol": exchange.safe_symbol(bill.get("symbol"), None, None, "swap"),
            "code": exchange.safe_currency_code(bill.get("coin")), "amount": to_decimal(bill.get("amount")),
            "id": bill.get("billId"), "timestamp": int(created) if created.isdigit() else None}


async def bitget_positions(exchange: Any, holdings: Iterable[Holding]) -> list[dict[str, Any]]:
    coin_margins = sorted({code for h in holdings if h.wallet == COIN_FUTURES_WALLET for code in h.amounts})
    requests = [*_LINEAR_PRODUCTS, *(("COIN-FUTURES", code) for code in coin_margins)]
    out: list[dict[str, Any]] = []
    for product, coin in requests:
        out.extend(await exchange.fetch_positions(None, {"type": "swap", "productType": product, "marginCoin": coin}))
    return out
