"""gate (APIv4) history and earn read from the endpoints directly, within gate's documented limits.

Why not ccxt here (4.5.64):
- flow type: ccxt types a deposit/withdrawal by the first letter of its record id ("d"/"w"); gate
  documents a prefix only for withdrawal ids, so a row with another id fell out of zka's filter. Here the
  endpoint says what a row is.
- deposit status `DEP_CREDITED` ("Deposit Credited, Withdrawal Pending Unlock": in the balance) is passed
  through by ccxt and was never counted, so the money became profit (the okx state-1 case, issue 19
  item 13). Here it counts, once (the flow memory keys on the record id, not the status).
- paging: gate serves 100 rows by default (`limit` default 100; deposits at most 500) and at most 30
  days per request; ccxt asks neither `limit` nor `offset`, so a busier window lost rows silently.
  Here every request names `limit` and walks `offset` until a short page, in 30-day pieces.
- funding: ccxt's funding history names the market from the account book's `text` ("BTC_USDT:3914424",
  gate's own example), finds no market, and leaves the currency empty: every funding fee was valued
  at nothing. Here the currency is the settle currency of the book that was asked.
- Simple Earn (`GET /earn/uni/lends`) is a wallet ccxt's fetch_balance does not read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from app.connectors.base import ConnectorError, DayWindow
from app.core.money import ZERO, to_decimal

PAGE = 100  # gate: `limit` default 100 on deposits, withdrawals and the futures account book
MAX_PAGES = 100  # 10,000 rows of one kind in one 30-day piece: refuse rather than lose any
FLOW_SPAN = timedelta(days=30)  # gate: "Record query time range cannot exceed 30 days"
EARN_PAGE = 100  # GET /earn/uni/lends: `limit` at most 100
# deposits: DONE = credited to spot; DEP_CREDITED = credited, only its withdrawal still locked
DEPOSIT_IN_BALANCE = {"DONE", "DEP_CREDITED"}
# withdrawals: DONE = completed; BCODE = a GateCode (gift code) created from the balance: money left
WITHDRAWAL_DONE = {"DONE", "BCODE"}
FUNDING_BOOKS = ("usdt", "btc")  # perpetual settle currencies (delivery contracts pay no funding)


async def _offset_pages(call: Callable[[dict[str, Any]], Awaitable[Any]], request: dict[str, Any],
                        what: str) -> list[Mapping[str, Any]]:
    """`limit` = PAGE and `offset` on, until a short page."""
    rows: list[Mapping[str, Any]] = []
    for number in range(MAX_PAGES):
        body = await call({**request, "limit": PAGE, "offset": number * PAGE})
        page = [row for row in body if isinstance(row, Mapping)] if isinstance(body, list) else []
        rows += page
        if len(page) < PAGE:
            return rows
    raise ConnectorError(f"gate: more than {MAX_PAGES * PAGE} rows of {what} in 30 days")


def _pieces(window: DayWindow) -> list[tuple[int, int]]:
    """[from, to] in seconds, both inclusive at gate: the window [start, end) as whole seconds."""
    if window.start >= window.end:
        return []
    return [(piece.start_ms // 1000, piece.end_ms // 1000 - 1) for piece in window.split(FLOW_SPAN)]


async def gate_flows(exchange: Any, window: DayWindow) -> list[dict[str, Any]]:
    """Deposits and withdrawals of the window in ccxt's transaction shape (for activity.add_flows)."""
    out: list[dict[str, Any]] = []
    for start, end in _pieces(window):
        request = {"from": start, "to": end}
        for row in await _offset_pages(exchange.privateWalletGetDeposits, request, "deposits"):
            out.append(_flow(exchange, row, "deposit"))
        for row in await _offset_pages(exchange.privateWalletGetWithdrawals, request, "withdrawals"):
            out.append(_flow(exchange, row, "withdrawal"))
    return out


def _flow(exchange: Any, row: Mapping[str, Any], kind: str) -> dict[str, Any]:
    status = str(row.get("status") or "")
    done = DEPOSIT_IN_BALANCE if kind == "deposit" else WITHDRAWAL_DONE
    code = exchange.safe_currency_code(row.get("currency"))
    amount = abs(to_decimal(row.get("amount")))
    fee = to_decimal(row.get("fee")) if kind == "withdrawal" else ZERO
    # gate's withdrawal `amount` is what left the balance, its `fee` taken out of it (ccxt reads it so
    # too): the recipient got amount - fee; activity.flow_usd adds the fee back to count what left.
    return {"type": kind, "id": f"gate:{kind}:{row.get('id')}", "txid": row.get("txid"), "currency": code,
            "amount": amount - fee, "fee": {"currency": code, "cost": fee} if fee else None,
            "status": "ok" if status in done else status.lower() or None,
            "timestamp": int(to_decimal(row.get("timestamp")) * 1000)}


async def gate_funding(exchange: Any, window: DayWindow) -> list[dict[str, Any]]:
    """Funding fees of the window from each perpetual book (`type=fund`), in ccxt's funding shape."""
    out: list[dict[str, Any]] = []
    for settle in FUNDING_BOOKS:
        for start, end in _pieces(window):
            request = {"settle": settle, "type": "fund", "from": start, "to": end}
            call = exchange.privateFuturesGetSettleAccountBook
            for row in await _offset_pages(call, request, f"{settle} funding"):
                contract = str(row.get("contract") or str(row.get("text") or "").split(":")[0])
                market = exchange.safe_market(contract, None, "_", "swap")  # spot BTC_USDT shares the id
                out.append({"symbol": market.get("symbol"), "code": settle.upper(),
                            "id": f"{settle}:{row.get('id')}", "amount": to_decimal(row.get("change")),
                            "timestamp": int(to_decimal(row.get("time")) * 1000)})
    return out


async def gate_earn(exchange: Any) -> dict[str, Decimal]:
    """Simple Earn (uni lending): `amount` ("Total Lending Amount") per currency, lent or not yet."""
    amounts: dict[str, Decimal] = {}
    for page in range(1, MAX_PAGES + 1):
        body = await exchange.privateEarnGetUniLends({"page": page, "limit": EARN_PAGE})
        rows = [row for row in body if isinstance(row, Mapping)] if isinstance(body, list) else []
        for row in rows:
            amount = to_decimal(row.get("amount"))
            if amount != ZERO:
                code = exchange.safe_currency_code(row.get("currency"))
                amounts[code] = amounts.get(code, ZERO) + amount
        if len(rows) < EARN_PAGE:
            return amounts
    raise ConnectorError(f"gate: more than {MAX_PAGES * EARN_PAGE} Simple Earn positions")
