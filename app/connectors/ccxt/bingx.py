"""bingx: deposits and withdrawals read from the venue's own rows (ccxt 4.5.64 reads them loosely).

`GET /openApi/api/v3/capital/deposit/hisrec` and `GET /openApi/api/v3/capital/withdraw/history`
(bingx-api.github.io "Deposit records" / "Withdraw records"): `startTime`/`endTime`, `offset` and `limit`
(default and maximum 1,000). ccxt asks one page from `since` with no end and no offset, so a busier
range lost every row past the first 1,000; it types a row by `transferType` ("0" deposit, anything
else withdrawal) rather than by the endpoint it came from; and it counts a deposit in status 6
("chain uploaded", not yet completed) as done. Here: the endpoint names the type; deposits count at
status 1 (completed), withdrawals at 6 (completed); pages of 1,000 by `offset` within 90-day pieces.
Deposit rows carry no id: the transaction id (`txId`) names them. Neither endpoint reports when a
record completed, so a record is dated by its creation (`insertTime` / `applyTime`); the flow memory
counts one that completes later in the fetch that first sees it completed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from app.connectors.base import ConnectorError, DayWindow
from app.core.money import to_decimal

FLOW_PAGE = 1000  # documented maximum of `limit`
MAX_PAGES = 20
FLOW_SPAN = timedelta(days=90)  # one request's range (the deposit/withdraw records follow binance's 90 days)
_DONE = {"deposit": "1", "withdrawal": "6"}
_FAILED = {"deposit": set(), "withdrawal": {"5"}}


async def bingx_flows(exchange: Any, scan: DayWindow) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for piece in scan.split(FLOW_SPAN):
        request = {"startTime": piece.start_ms, "endTime": piece.end_ms - 1}
        for kind, call in (("deposit", exchange.spotV3PrivateGetCapitalDepositHisrec),
                           ("withdrawal", exchange.spotV3PrivateGetCapitalWithdrawHistory)):
            out += [_flow(exchange, row, kind) for row in await _pages(call, request, kind)]
    return out


async def _pages(call: Callable[[dict[str, Any]], Awaitable[Any]], request: dict[str, Any],
                 kind: str) -> list[Mapping[str, Any]]:
    rows: list[Mapping[str, Any]] = []
    for page in range(MAX_PAGES):
        body = await call({**request, "offset": page * FLOW_PAGE, "limit": FLOW_PAGE})
        data = body.get("data") if isinstance(body, Mapping) else body  # a bare list, as documented
        if not isinstance(data, list):
            raise ConnectorError(f"bingx: {kind} records without a list")
        batch = [row for row in data if isinstance(row, Mapping)]
        rows += batch
        if len(batch) < FLOW_PAGE:
            return rows
    raise ConnectorError(f"bingx: more than {MAX_PAGES * FLOW_PAGE} {kind} records in one range")


def _flow(exchange: Any, row: Mapping[str, Any], kind: str) -> dict[str, Any]:
    code = exchange.safe_currency_code(row.get("coin"))
    status = str(row.get("status"))
    state = "ok" if status == _DONE[kind] else "failed" if status in _FAILED[kind] else "pending"
    fee = to_decimal(row.get("transactionFee")) if kind == "withdrawal" else None
    return {"type": kind, "currency": code, "amount": abs(to_decimal(row.get("amount"))),
            "fee": {"currency": code, "cost": fee} if fee is not None else None, "status": state,
            "timestamp": _ms(row.get("insertTime") if kind == "deposit" else row.get("applyTime")),
            "id": str(row.get("id") or row.get("txId") or ""), "txid": row.get("txId") or None}


def _ms(value: Any) -> int | None:
    """insertTime is ms; applyTime is "YYYY-MM-DD HH:MM:SS" (UTC) or ms."""
    text = str(value) if value is not None else ""
    if text.isdigit():
        return int(text)
    try:
        return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp() * 1000)
    except ValueError:
        return None
