"""USD prices for every asset of a venue, from one fetch_tickers() snapshot.

Rules (SPEC §7):
- USD is worth 1. Nothing else is assumed to be worth 1 while the venue quotes it against USD:
  USDT, USDC and other stablecoins are valued at their own ticker (USDT/USD, or USD/USDT inverted).
- Venues with no USD market at all (binance, bybit, ...) quote everything in USDT/USDC, so the only
  scale they offer is the stablecoin itself. There, and only there, the *numeraire* stablecoins
  (PEGGED: USDT, USDC) fall back to 1 -- a documented assumption, not a silent default.
- Any other asset X is priced by its first available route: X/USD, X/USDT, X/USDC, X/BTC, X/ETH
  (or the inverted pair), times the USD price of that quote. Assets with no route are unpriced.
- Ticker price = last, else close, else bid/ask midpoint; non-positive prices are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from app.core.money import ZERO, to_decimal

ONE = Decimal(1)
PEGGED = ("USDT", "USDC")
QUOTE_ROUTE = ("USD", "USDT", "USDC", "BTC", "ETH")
# Venue spellings of the same coin (ccxt normalises most; these slip through on some venues).
ALIASES = {"XBT": "BTC", "ZUSD": "USD", "USD.F": "USD"}


def plain(value: Decimal) -> str:
    """Amount as a plain string without float artefacts: 7.0 -> '7', 1E+1 -> '10'."""
    normalized = value.normalize()
    return f"{normalized:f}"


def ticker_price(ticker: Mapping[str, object]) -> Decimal | None:
    for key in ("last", "close"):
        value = ticker.get(key)
        if value is not None:
            price = to_decimal(value)
            if price > ZERO:
                return price
    bid, ask = ticker.get("bid"), ticker.get("ask")
    if bid is not None and ask is not None:
        mid = (to_decimal(bid) + to_decimal(ask)) / 2
        return mid if mid > ZERO else None
    return None


def _pair_of(symbol: str) -> tuple[tuple[str, str] | None, bool]:
    """'BTC/USDT' -> spot pair; 'BTC/USDT:USDT' -> perpetual pair; dated/option contracts -> None."""
    if "/" not in symbol:
        return None, False
    base, rest = symbol.split("/", 1)
    quote, _, settle = rest.partition(":")
    if settle and "-" in settle:
        return None, True
    return (base, quote), bool(settle)


class PriceBook:
    """Pair prices from spot tickers. Quote currencies are resolved first, in a fixed order, so no
    asset's price ever depends on a cycle (USDT -> USDC -> USDT)."""

    def __init__(self, tickers: Mapping[str, Mapping[str, object]]) -> None:
        self._pairs: dict[tuple[str, str], Decimal] = {}
        perpetuals: dict[tuple[str, str], Decimal] = {}
        for symbol, ticker in tickers.items():
            pair, perpetual = _pair_of(symbol)
            price = ticker_price(ticker)
            if pair is None or price is None:
                continue
            (perpetuals if perpetual else self._pairs)[pair] = price
        # Futures-only clients (binanceusdm/coinm, ...) get perpetual tickers: BTC/USD:BTC prices BTC in
        # USD. Spot prices win wherever both exist.
        for pair, price in perpetuals.items():
            self._pairs.setdefault(pair, price)
        has_usd_market = any(quote == "USD" or base == "USD" for base, quote in self._pairs)
        self._quotes: dict[str, Decimal] = {"USD": ONE}
        for quote in QUOTE_ROUTE[1:]:
            price = self._route(quote)
            if price is None and quote in PEGGED and not has_usd_market:
                price = ONE
            if price is not None:
                self._quotes[quote] = price
        self._memo: dict[str, Decimal | None] = dict(self._quotes)

    def pair(self, base: str, quote: str) -> Decimal | None:
        direct = self._pairs.get((base, quote))
        if direct is not None:
            return direct
        inverse = self._pairs.get((quote, base))
        return ONE / inverse if inverse else None

    def _route(self, asset: str) -> Decimal | None:
        for quote, quote_usd in self._quotes.items():  # insertion order = QUOTE_ROUTE order
            if quote == asset:
                continue
            price = self.pair(asset, quote)
            if price is not None:
                return price * quote_usd
        return None

    def usd(self, asset: str) -> Decimal | None:
        asset = ALIASES.get(asset, asset)
        if asset not in self._memo:
            price = self._route(asset)
            if price is None and "." in asset:
                # kraken earn/staking balances: DOT.S, ETH2.S, USDT.F, XBT.M -- same coin, other wallet
                price = self.usd(asset.split(".", 1)[0])
            self._memo[asset] = price
        return self._memo[asset]

    def value(self, asset: str, amount: Decimal) -> Decimal | None:
        price = self.usd(asset)
        return None if price is None else amount * price
