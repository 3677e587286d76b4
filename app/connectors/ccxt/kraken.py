"""kraken deposit and withdrawal history, read page by page (DepositStatus / WithdrawStatus).

Without `cursor` kraken answers at most 25 deposits (or withdrawals) of the range, newest first, and
says nothing of the rest; ccxt 4.5.64 asks that way for deposits (and pages withdrawals only with its
capped paginator). Here each asks `cursor=true`, then `cursor` = the previous `next_cursor` until kraken
sends none: the body is then `{"deposits"|"withdrawals": [...], "next_cursor": ...}`. `start` and
`end` are seconds, both inclusive. Rows are parsed by ccxt (status, fee, time in ccxt's shape).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from app.connectors.base import ConnectorError, DayWindow

MAX_PAGES = 200  # 5,000 rows of one kind at kraken's default page of 25: refuse rather than lose any
_KINDS = (("deposit", "privatePostDepositStatus", "deposits"),
          ("withdrawal", "privatePostWithdrawStatus", "withdrawals"))


async def kraken_flows(exchange: Any, window: DayWindow) -> list[dict[str, Any]]:
    if window.start >= window.end:
        return []
    request = {"start": str(window.start_ms // 1000), "end": str(math.ceil(window.end_ms / 1000))}
    out: list[dict[str, Any]] = []
    for kind, method, key in _KINDS:
        rows = await _pages(exchange, method, key, request)
        out += exchange.parse_transactions_by_type(kind, rows)
    return out


async def _pages(exchange: Any, method: str, key: str, request: dict[str, str]) -> list[Mapping[str, Any]]:
    rows: dict[str, Mapping[str, Any]] = {}
    cursor = "true"
    for _ in range(MAX_PAGES):
        body = await getattr(exchange, method)({**request, "cursor": cursor})
        result = body.get("result") if isinstance(body, Mapping) else None
        if not isinstance(result, Mapping):
            raise ConnectorError(f"kraken: {method} answered without a page")
        page = [row for row in result.get(key) or [] if isinstance(row, Mapping)]
        rows.update((str(row.get("refid")), row) for row in page)
        following = result.get("next_cursor")
        if not page or not following:
            return list(rows.values())
        cursor = str(following)
    raise ConnectorError(f"kraken: more than {MAX_PAGES} pages of {method} in one window")
