"""Trades, deposits/withdrawals, funding and positions of one window -> aggregates only.

Individual trades never leave these functions: each list is reduced to counts and sums at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from app.connectors.base import FLOW_LOOKBACK, AccountState, DayWindow, FlowMemory
from app.connectors.ccxt.pricing import PriceBook, plain
from app.connectors.ccxt.profiles import TradeScope
from app.core.money import ZERO, to_decimal

PAGINATION_CALLS = 20  # ccxt pages; 20 x 1000 fills per scope per day is far above any real account


def window_params(window: DayWindow, paginate: bool, page_size: int | None = None) -> dict[str, object]:
    # `until` is inclusive on most venues; the window is [start, end).
    params: dict[str, object] = {"until": window.end_ms - 1}
    if paginate:
        params.update({"paginate": True, "paginationCalls": PAGINATION_CALLS})
        if page_size is not None:
            params["maxEntriesPerRequest"] = page_size  # the venue's documented maximum
    return params


def in_window(item: Mapping[str, Any], window: DayWindow) -> bool:
    ts = item.get("timestamp")
    return isinstance(ts, int | float) and window.start_ms <= ts < window.end_ms


def trade_market(market: Mapping[str, Any] | None, scope: TradeScope) -> str:
    if scope.market is not None:
        return scope.market
    if market is None:
        return "spot"
    if market.get("option"):
        return "options"
    if market.get("future"):
        return "futures"
    if market.get("swap"):
        return "swap"
    return "spot"


def notional_usd(
    trade: Mapping[str, Any], market: Mapping[str, Any] | None, book: PriceBook
) -> Decimal | None:
    """amount x contractSize x price in the quote, valued in USD; inverse contracts are USD-sized."""
    amount = to_decimal(trade.get("amount"))
    price = to_decimal(trade.get("price"))
    if market is None:
        base, _, quote = str(trade.get("symbol") or "").partition("/")
        quote = quote.split(":")[0]
        return book.value(quote, amount * price) if quote else None
    size = to_decimal(market.get("contractSize")) if market.get("contract") else Decimal(1)
    size = size or Decimal(1)
    if market.get("option"):
        return book.value(str(market.get("base")), amount * size)  # underlying notional
    if market.get("inverse"):
        return book.value(str(market.get("quote")), amount * size)  # contracts of N USD each
    return book.value(str(market.get("quote")), amount * size * price)


def trade_fees_usd(trade: Mapping[str, Any], book: PriceBook) -> tuple[Decimal, bool]:
    """Sum of fee costs in USD (rebates are negative); False if some fee currency can't be priced."""
    fees = trade.get("fees") or ([trade["fee"]] if trade.get("fee") else [])
    total, complete = ZERO, True
    for fee in fees:
        cost = to_decimal(fee.get("cost")) if fee else ZERO
        if cost == ZERO:
            continue
        usd = book.value(str(fee.get("currency")), cost)
        if usd is None:
            complete = False
        else:
            total += usd
    return total, complete


def add_trades(state: AccountState, trades: Iterable[Mapping[str, Any]], scope: TradeScope,
               markets: Mapping[str, Any], book: PriceBook, window: DayWindow) -> int:
    """Aggregate into state; returns how many trades had a volume or fee that couldn't be valued."""
    seen: set[str] = set()
    unvalued = 0
    for trade in trades:
        key = _trade_key(trade)
        if not in_window(trade, window) or key in seen:
            continue
        seen.add(key)
        market = markets.get(str(trade.get("symbol")))
        stats = state.market(trade_market(market, scope))
        stats.trades += 1
        volume = notional_usd(trade, market, book)
        fees, complete = trade_fees_usd(trade, book)
        stats.volume += volume or ZERO
        stats.fees += fees
        unvalued += int(volume is None or not complete)
    return unvalued


def _trade_key(trade: Mapping[str, Any]) -> str:
    """A fill's identity for de-duplicating overlapping pages. Some venues' fills carry no id (bingx
    perpetual fills): then the order, instant, side, amount and price name it, or every fill of a market
    would collapse into one."""
    if trade.get("id") is not None:
        return f"{trade.get('symbol')}|{trade.get('id')}"
    return "|".join(str(trade.get(field)) for field in ("symbol", "order", "timestamp", "side", "amount", "price"))


def flow_usd(tx: Mapping[str, Any], book: PriceBook) -> Decimal | None:
    """Withdrawals count amount + fee (everything that left the account); deposits the amount."""
    code = str(tx.get("currency"))
    amount = to_decimal(tx.get("amount"))
    fee = tx.get("fee") or {}
    if tx.get("type") == "withdrawal" and fee.get("currency") in (None, code):
        amount += to_decimal(fee.get("cost"))
    return book.value(code, abs(amount))


def is_completed_flow(tx: Mapping[str, Any]) -> bool:
    """A completed deposit/withdrawal (pending, cancelled and failed ones never count).

    Transfers between the account's own wallets (spot <-> futures <-> funding <-> earn) are not flows
    (SPEC §7): they never appear in deposit/withdrawal history and all wallets are summed, so they
    cancel out. ccxt's `internal=True` means something else -- an off-chain move to/from *another*
    account of the venue (binance internal transfer, bybit off-chain withdrawal). That money does
    enter or leave this account, so it is a flow; ignoring it would book a gift as performance.
    """
    return tx.get("type") in ("deposit", "withdrawal") and tx.get("status") == "ok"


def flow_scan(window: DayWindow, memory: FlowMemory | None, lookback: timedelta = FLOW_LOOKBACK) -> DayWindow:
    """The range whose flows a fetch reads: the window, plus the venue's look-back before it with a memory (a
    flow dated earlier that completed since the last fetch is in the balance now, so it belongs to this one)."""
    return window if memory is None else DayWindow(window.start - lookback, window.end)


def add_flows(state: AccountState, txs: Iterable[Mapping[str, Any]], book: PriceBook, window: DayWindow,
              memory: FlowMemory | None = None, lookback: timedelta = FLOW_LOOKBACK) -> None:
    """Count each completed flow once.

    Without a memory: the flows dated in the window. With one (syncs): every completed flow of the scan
    (flow_scan) not counted before, so a deposit pending at the last snapshot and completed since counts
    now, in the window whose balance shows it; its hash is remembered. The first fetch of a connection
    (memory not established: at connect, or the first sync after memory existed) only records what the
    balance already holds before the window."""
    seen: set[str] = set()
    scan = flow_scan(window, memory, lookback)
    if memory is not None:
        state.pending_past_lookback += pending_past_lookback(txs, scan, window, lookback)
    for tx in txs:
        key = f"{tx.get('type')}|{tx.get('id')}|{tx.get('txid')}"
        if not is_completed_flow(tx) or key in seen or not in_window(tx, scan):
            continue
        seen.add(key)
        if memory is not None:
            digest = memory.hash(key)
            if digest in memory.counted:
                continue
            state.counted_flows.add(digest)
            if not memory.established and not in_window(tx, window):
                continue  # already in the opening balance
        _count_flow(state, tx, book)
    if memory is not None and not memory.established:
        state.counted_flows.add(memory.baseline())


def pending_past_lookback(txs: Iterable[Mapping[str, Any]], scan: DayWindow, window: DayWindow,
                          lookback: timedelta = FLOW_LOOKBACK) -> int:
    """Pending deposits/withdrawals of this scan dated before the next fetch's look-back (it starts
    `lookback` before this window's end, where the next window starts): completed later, such a flow
    is never seen again, so the snapshot says how many there were (LATE_FLOWS)."""
    edge = DayWindow(scan.start, window.end - lookback)
    keys = {f"{tx.get('type')}|{tx.get('id')}|{tx.get('txid')}" for tx in txs
            if tx.get("type") in ("deposit", "withdrawal") and tx.get("status") == "pending" and in_window(tx, edge)}
    return len(keys)


def _count_flow(state: AccountState, tx: Mapping[str, Any], book: PriceBook) -> None:
    usd = flow_usd(tx, book)
    if usd is None:
        label = f"{tx.get('currency')} ({tx.get('type')})"
        previous = to_decimal(state.unpriced_assets.get(label))
        state.unpriced_assets[label] = plain(previous + abs(to_decimal(tx.get("amount"))))
    elif tx["type"] == "deposit":
        state.deposits += usd
    else:
        state.withdrawals += usd


def add_funding(state: AccountState, entries: Iterable[Mapping[str, Any]], markets: Mapping[str, Any],
                book: PriceBook, window: DayWindow, sign: int = 1) -> None:
    seen: set[str] = set()
    for entry in entries:
        key = f"{entry.get('symbol')}|{entry.get('id')}|{entry.get('timestamp')}"
        if not in_window(entry, window) or key in seen:
            continue
        seen.add(key)
        usd = book.value(str(entry.get("code")), sign * to_decimal(entry.get("amount")))
        market = markets.get(str(entry.get("symbol")))
        name = "futures" if market and market.get("future") else "swap"
        state.market(name).funding += usd or ZERO


def positions_upl(
    positions: Iterable[Mapping[str, Any]], markets: Mapping[str, Any], book: PriceBook
) -> Decimal:
    total = ZERO
    for position in positions:
        pnl = to_decimal(position.get("unrealizedPnl"))
        if pnl == ZERO:
            continue
        market = markets.get(str(position.get("symbol"))) or {}
        code = market.get("settle") or market.get("quote") or "USD"
        total += book.value(str(code), pnl) or ZERO
    return total
