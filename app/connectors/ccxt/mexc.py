"""mexc history read from the endpoints directly, within mexc's documented limits.

Why not ccxt here (4.5.64):
- deposit status: mexc documents 1-12 (5 SUCCESS and 12 COMPLETED are credited); ccxt maps only 1-7,
  so a COMPLETED deposit kept the status "12" and was never counted: the money became profit.
- paging: deposit and withdrawal history serve at most 1,000 rows a request with no offset; ccxt asks
  `startTime` only, so a busier window lost the older rows silently. Here each 7-day piece is walked
  back by `endTime` (newest first) until a short page, rows at a page edge deduplicated.
- funding: ccxt's funding history (GET /api/v1/private/position/funding_records) sends no time bounds
  and no page, leaves the currency empty (every fee valued at nothing) and, without a symbol, the market
  too. Here pages of 100 are read back to the window's start and each fee is valued in its contract's
  settle currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from app.connectors.base import ConnectorError, DayWindow
from app.core.money import to_decimal

PAGE = 1000  # deposit/withdrawal history: `limit` default and maximum 1,000
MAX_PAGES = 50
FLOW_SPAN = timedelta(days=7)  # deposit/withdrawal history: asked in 7-day pieces (mexc's default range)
FUNDING_PAGE = 100  # funding records: `page_size` at most 100
DEPOSIT_IN_BALANCE = {"5", "12"}  # SUCCESS, COMPLETED
WITHDRAWAL_DONE = {"7"}  # SUCCESS


async def _time_pages(call: Any, window: DayWindow, time_field: str, key: Any) -> list[Mapping[str, Any]]:
    """Newest first, at most PAGE rows: the next request ends at the oldest row's time (inclusive), and
    rows already seen are dropped, until a short page."""
    rows: dict[str, Mapping[str, Any]] = {}
    end = window.end_ms - 1
    for _ in range(MAX_PAGES):
        body = await call({"startTime": window.start_ms, "endTime": end, "limit": PAGE})
        page = [row for row in body if isinstance(row, Mapping)] if isinstance(body, list) else []
        new = [row for row in page if key(row) not in rows]
        rows.update((key(row), row) for row in new)
        if len(page) < PAGE:
            return list(rows.values())
        if not new:
            raise ConnectorError(f"mexc: more than {PAGE} flows in one millisecond")
        end = min(int(row.get(time_field) or 0) for row in page)
    raise ConnectorError(f"mexc: more than {MAX_PAGES * PAGE} flows in 7 days")


def _deposit_key(row: Mapping[str, Any]) -> str:
    # deposit rows carry no id: the chain transaction, coin, amount and creation time name one
    return f"{row.get('txId')}|{row.get('coin')}|{row.get('amount')}|{row.get('insertTime')}"


async def mexc_flows(exchange: Any, window: DayWindow) -> list[dict[str, Any]]:
    """Deposits and withdrawals of the window in ccxt's transaction shape (for activity.add_flows)."""
    if window.start >= window.end:
        return []
    out: list[dict[str, Any]] = []
    for piece in window.split(FLOW_SPAN):
        for row in await _time_pages(exchange.spotPrivateGetCapitalDepositHisrec, piece, "insertTime", _deposit_key):
            out.append(_flow(exchange, row, "deposit", f"mexc:deposit:{_deposit_key(row)}", "insertTime"))
        for row in await _time_pages(exchange.spotPrivateGetCapitalWithdrawHistory, piece, "applyTime",
                                     lambda r: str(r.get("id"))):
            out.append(_flow(exchange, row, "withdrawal", f"mexc:withdrawal:{row.get('id')}", "applyTime"))
    return out


def _flow(exchange: Any, row: Mapping[str, Any], kind: str, flow_id: str, time_field: str) -> dict[str, Any]:
    status = str(row.get("status") or "")
    done = DEPOSIT_IN_BALANCE if kind == "deposit" else WITHDRAWAL_DONE
    code = exchange.safe_currency_code(str(row.get("coin") or "").split("-")[0])
    amount = abs(to_decimal(row.get("amount")))
    fee = to_decimal(row.get("transactionFee")) if kind == "withdrawal" else to_decimal(0)
    # as ccxt reads mexc: a withdrawal's `amount` includes its `transactionFee` (activity.flow_usd adds the
    # fee back to the amount received, so the whole amount counts as having left)
    return {"type": kind, "id": flow_id, "txid": row.get("txId"), "currency": code, "amount": amount - fee,
            "fee": {"currency": code, "cost": fee} if fee else None,
            "status": "ok" if status in done else status or None, "timestamp": int(row.get(time_field) or 0)}


async def mexc_funding(exchange: Any, window: DayWindow) -> list[dict[str, Any]]:
    """Funding fees of the window, newest first in pages of 100, read back to the window's start."""
    out: list[dict[str, Any]] = []
    if window.start >= window.end:
        return out
    for number in range(1, MAX_PAGES + 1):
        body = await exchange.contractPrivateGetPositionFundingRecords({"page_num": number,
                                                                        "page_size": FUNDING_PAGE})
        data = body.get("data") if isinstance(body, Mapping) else None
        rows = data.get("resultList") if isinstance(data, Mapping) else None
        page = [row for row in rows or [] if isinstance(row, Mapping)]
        for row in page:
            market = exchange.safe_market(row.get("symbol"), None, None, "swap")
            out.append({"symbol": market.get("symbol"), "code": market.get("settle"), "id": str(row.get("id")),
                        "amount": to_decimal(row.get("funding")), "timestamp": int(row.get("settleTime") or 0)})
        if len(page) < FUNDING_PAGE or min(int(row.get("settleTime") or 0) for row in page) < window.start_ms:
            return out
    raise ConnectorError(f"mexc: more than {MAX_PAGES * FUNDING_PAGE} funding fees in one window")
