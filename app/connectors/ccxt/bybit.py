"""bybit deposits ccxt's history does not return: internal (off-chain) deposits from other bybit users.

GET /v5/asset/deposit/query-internal-record lists crypto received within bybit, by email, phone or UID
(a transfer from another bybit account, a P2P seller's release): money entering this account that the
on-chain deposit history (ccxt's fetch_deposits) never shows, so it read as profit. startTime/endTime at
most 30 days apart, `limit` 1..50, then `cursor` = `nextPageCursor` until it is empty. Completed =
status 2 (1 processing, 3 failed). `createdTime` is in seconds in bybit's documented example; a value in
milliseconds is taken as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from app.connectors.base import ConnectorError, DayWindow

PAGE = 50
MAX_PAGES = 100  # 5,000 internal deposits in 30 days: refuse rather than lose any
MAX_RANGE = timedelta(days=30)
DONE = "2"


async def bybit_internal_deposits(exchange: Any, window: DayWindow) -> list[dict[str, Any]]:
    if window.start >= window.end:
        return []
    out: list[dict[str, Any]] = []
    for piece in window.split(MAX_RANGE):
        for row in await _pages(exchange, {"startTime": piece.start_ms, "endTime": piece.end_ms - 1}):
            out.append({"type": "deposit", "currency": exchange.safe_currency_code(row.get("coin")),
                        "amount": row.get("amount"), "fee": None,
                        "status": "ok" if str(row.get("status")) == DONE else "pending",
                        "timestamp": _ms(row.get("createdTime")), "id": f"internal:{row.get('id')}",
                        "txid": row.get("txID") or None})
    return out


async def _pages(exchange: Any, request: dict[str, Any]) -> list[Mapping[str, Any]]:
    rows: list[Mapping[str, Any]] = []
    cursor = ""
    for _ in range(MAX_PAGES):
        body = await exchange.privateGetV5AssetDepositQueryInternalRecord(
            {**request, "limit": PAGE, **({"cursor": cursor} if cursor else {})})
        result = body.get("result") if isinstance(body, Mapping) else None
        if not isinstance(result, Mapping):
            raise ConnectorError("bybit: internal deposit records answered without a result")
        rows += [row for row in result.get("rows") or [] if isinstance(row, Mapping)]
        cursor = str(result.get("nextPageCursor") or "")
        if not cursor:
            return rows
    raise ConnectorError(f"bybit: more than {MAX_PAGES * PAGE} internal deposits in one range")


def _ms(value: Any) -> int | None:
    if value is None or not str(value).isdigit():
        return None
    number = int(value)
    return number * 1000 if number < 100_000_000_000 else number  # seconds (bybit's example) or ms
