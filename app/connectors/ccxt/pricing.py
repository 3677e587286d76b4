"""USD prices for every asset of a venue, from one fetch_tickers() snapshot: a conversion graph.

Rules (SPEC §7, issue 19 items 4 and 7):
- USD is worth 1. Nothing else is assumed to be worth 1 while the venue quotes it against USD:
  USDT, USDC and other stablecoins are valued at their own ticker (USDT/USD, or USD/USDT inverted).
- Venues with no USD market at all (binance, bybit, ...) quote everything in USDT/USDC, so the only
  scale they offer is the stablecoin itself. There, and only there, the *numeraire* stablecoins
  (PEGGED: USDT, then USDC if no market links it to USDT) are worth 1 -- a documented assumption,
  not a silent default.
- Every ticker is an edge between its two assets (either direction: X/Y or Y/X inverted). An asset is
  priced along the **shortest route** (fewest conversions) from USD (or the pegged numeraire); among
  equally short routes, the last hop goes through the preferred quote: USD, USDT, USDC, BTC, ETH,
  then other assets alphabetically. So X/USDT wins over X/BTC, and a coin that trades only against
  BNB, EUR or TRY is priced through that market. Assets with no route at all are unpriced (listed).
- Staking/earn variants are the coin itself (kraken DOT.S, ETH2.S, XBT.M, USD.HOLD; ETH2 -> ETH).
- Ticker price = last, else close, else bid/ask midpoint; non-positive prices are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from app.core.money import ZERO, to_decimal

ONE = Decimal(1)
PEGGED = ("USDT", "USDC")
PREFERRED_QUOTES = ("USD", "USDT", "USDC", "BTC", "ETH")
# Venue spellings of the same coin (ccxt normalises most; these slip through on some venues).
# ETH2: kraken's staked ether (ETH2.S is its staking balance, ETH2 the bonded one): ETH one-to-one.
ALIASES = {"XBT": "BTC", "ZUSD": "USD", "ZEUR": "EUR", "ETH2": "ETH"}


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


def canonical(asset: str) -> str:
    """The coin an asset code stands for: aliases applied, wallet suffixes (DOT.S, USD.HOLD) removed."""
    asset = ALIASES.get(asset, asset)
    if "." in asset:
        asset = asset.split(".", 1)[0]
    return ALIASES.get(asset, asset)


def _preference(asset: str) -> tuple[int, str]:
    rank = PREFERRED_QUOTES.index(asset) if asset in PREFERRED_QUOTES else len(PREFERRED_QUOTES)
    return rank, asset


class PriceBook:
    """USD price of every asset reachable from USD over the venue's tickers (see the module rules)."""

    def __init__(self, tickers: Mapping[str, Mapping[str, object]]) -> None:
        self._pairs: dict[tuple[str, str], Decimal] = {}
        perpetuals: dict[tuple[str, str], Decimal] = {}
        for symbol, ticker in tickers.items():
            pair, perpetual = _pair_of(symbol)
            price = ticker_price(ticker)
            if pair is None or price is None or pair[0] == pair[1]:
                continue
            (perpetuals if perpetual else self._pairs)[pair] = price
        # Futures-only clients (binanceusdm/coinm, ...) get perpetual tickers: BTC/USD:BTC prices BTC in
        # USD. Spot prices win wherever both exist.
        for pair, price in perpetuals.items():
            self._pairs.setdefault(pair, price)
        self._edges: dict[str, dict[str, Decimal]] = {}  # asset -> neighbour -> price of asset in neighbour
        for (base, quote), price in self._pairs.items():
            self._edges.setdefault(base, {})[quote] = price
            self._edges.setdefault(quote, {}).setdefault(base, ONE / price)
        self._prices: dict[str, Decimal] = {}
        has_usd_market = "USD" in self._edges
        self._spread({"USD": ONE})
        if not has_usd_market:
            for numeraire in PEGGED:
                if numeraire not in self._prices:
                    self._spread({numeraire: ONE})

    def _spread(self, seeds: dict[str, Decimal]) -> None:
        """Breadth-first from the seeds: each ring of assets one conversion further out is priced from
        its preferred neighbour in the ring before."""
        self._prices.update(seeds)
        ring = sorted(seeds, key=_preference)
        while ring:
            found: dict[str, Decimal] = {}
            for known in ring:  # preferred first, so a tie goes to the preferred quote
                for asset, _ in self._edges.get(known, {}).items():
                    if asset in self._prices or asset in found:
                        continue
                    found[asset] = self._edges[asset][known] * self._prices[known]
            self._prices.update(found)
            ring = sorted(found, key=_preference)

    def pair(self, base: str, quote: str) -> Decimal | None:
        return self._edges.get(base, {}).get(quote)

    def usd(self, asset: str) -> Decimal | None:
        price = self._prices.get(asset)
        return price if price is not None else self._prices.get(canonical(asset))

    def value(self, asset: str, amount: Decimal) -> Decimal | None:
        price = self.usd(asset)
        return None if price is None else amount * price
