"""Which symbols to ask for, on venues whose trade endpoint needs one (binance, bitget, mexc, bingx).

There is no 'all my trades' call there. Candidates: markets of assets held or moved in the window
(spot/margin), and for contracts the symbols of open positions, funding and binance's commission
income of the window (exact: every futures fill pays commission). Known gap: a spot coin bought and
fully sold within the day, never deposited/withdrawn, is not discovered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from app.connectors.base import DayWindow
from app.connectors.ccxt.profiles import MAX_SPAN

MAX_SYMBOLS = 40
SPOT_QUOTES = ("USDT", "USDC", "FDUSD", "USD", "BTC", "ETH", "BNB", "EUR")


def spot_symbols(markets: Mapping[str, Any], assets: Iterable[str], margin: bool) -> list[str]:
    wanted = set(assets) - {"USD"}
    found: list[tuple[int, str]] = []
    for symbol, market in markets.items():
        if not market.get("spot") or market.get("base") not in wanted:
            continue
        if margin and not market.get("margin"):
            continue
        quote = market.get("quote")
        if quote in SPOT_QUOTES:
            found.append((SPOT_QUOTES.index(quote), symbol))
    return [symbol for _, symbol in sorted(found)][:MAX_SYMBOLS]


def contract_symbols(markets: Mapping[str, Any], kind: str, hints: Iterable[str]) -> list[str]:
    out = []
    for symbol in dict.fromkeys(hints):
        market = markets.get(symbol)
        if market and market.get(kind):
            out.append(symbol)
    return out[:MAX_SYMBOLS]


async def binance_commission_symbols(exchange: Any, window: DayWindow) -> list[str]:
    """USDⓈ-M and COIN-M income history (incomeType=COMMISSION) names every symbol traded in the window."""
    symbols: list[str] = []
    for call, kind in (("fapiPrivateGetIncome", "linear"), ("dapiPrivateGetIncome", "inverse")):
        if not any(m.get(kind) for m in exchange.markets.values()):
            continue
        for piece in window.split(MAX_SPAN):
            request = {"incomeType": "COMMISSION", "startTime": piece.start_ms, "endTime": piece.end_ms - 1,
                       "limit": 1000}
            rows = await getattr(exchange, call)(request)
            for row in rows if isinstance(rows, list) else []:
                market_id = row.get("symbol")
                if market_id:
                    market = exchange.safe_market(market_id, None, None, "swap" if kind == "linear" else "future")
                    if market.get("symbol"):
                        symbols.append(market["symbol"])
    return symbols
