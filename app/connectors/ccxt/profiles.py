"""What to fetch per venue: wallets (fetch_balance params), trade scopes, flows, funding, permissions.

Facts come from ccxt 4.5.64's own docstrings/params (read in .venv/.../ccxt/async_support/<id>.py).
A wallet's equity is booked into the AccountState market named by `Wallet.market`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from app.connectors.base import FLOW_LOOKBACK

# split: fetch_deposits + fetch_withdrawals; per_code: fetch_deposits_withdrawals per held currency
# (coinbase keeps transactions per account and ccxt needs a code); none: flows live on another venue id
# okx: okx.py reads deposits/withdrawals and funding bills itself (documented paging and states)
# futures_transfers: a binance futures-only connection; its flows are transfers in/out of that wallet
# kraken: kraken.py pages DepositStatus / WithdrawStatus with kraken's cursor (25 rows a page without it)
# coinbase: coinbase.py pages v2 transactions per held currency (ccxt reads one page of 25)
FlowMode = Literal["split", "per_code", "okx", "kraken", "coinbase", "futures_transfers", "none"]
# Wallets ccxt's fetch_balance does not read: binance Simple Earn, okx Simple Earn + on-chain earn
EarnStyle = Literal["binance", "okx", "bybit", "none"]
PermissionStyle = Literal["binance", "okx", "bybit", "kraken", "coinbase", "read_only", "unknown"]
# Fiat flows outside ccxt's deposit/withdrawal history, read by fiat.py ("none": in that history already)
FiatStyle = Literal["binance", "none"]

# Widest time range one history request asks for. Venues cap it (binance futures trades, bybit executions:
# 7 days) and refuse past it, or ccxt shortens it without a word (binance deposits: 90 days); a window
# after a gap of days or weeks is fetched in pieces. ccxt's paginated trade queries page backwards from
# `until` without a start, so pieces there only bound each paginated walk (PAGINATION_CALLS pages).
MAX_SPAN = timedelta(days=7)
# binance deposit and withdrawal history: 90 days per request (ccxt sends since + 90 days for withdrawals
# whatever `until` says); each withdrawal-history call weighs 18,000 of the account's request budget.
BINANCE_FLOW_SPAN = timedelta(days=90)
# How far before each window a sync re-reads flows, to count one that completed since the last snapshot
# (dated by the venue at its creation). 30 days where the history is one request or a few cursor pages
# for that range; the default (6 days + the day: one 7-day request) elsewhere.
LONG_FLOW_LOOKBACK = timedelta(days=30)
# bybit deposit and withdrawal records: startTime..endTime at most 30 days
BYBIT_FLOW_SPAN = timedelta(days=30)


@dataclass(frozen=True)
class Wallet:
    name: str  # label for logs and errors
    market: str  # AccountState market the equity belongs to
    params: dict[str, object] = field(default_factory=dict)  # fetch_balance params
    # Field of each raw coin row to use instead of ccxt's `total` when ccxt's total excludes
    # unrealized PnL (bybit unified: walletBalance excludes it, `equity` includes it).
    equity_field: str | None = None
    optional: bool = False  # account type that many users don't have: a venue error skips it
    # Where the venue's raw balance response holds the balances (keys / list indexes; () = the body
    # itself): anything else there is a malformed answer, not an empty account (balance_shape.py).
    # None: not checked yet for this venue.
    shape: tuple[str | int, ...] | None = None


@dataclass(frozen=True)
class TradeScope:
    market: str | None  # None: classify by the traded market (swap/futures/options/spot)
    params: dict[str, object] = field(default_factory=dict)
    # 'spot'/'linear'/'inverse'/'option': ccxt needs a symbol; we discover candidate symbols of that kind
    per_symbol: str | None = None
    paginate: bool = False  # ccxt implements params.paginate for this venue's fetch_my_trades
    max_span: timedelta = MAX_SPAN  # per request; longer windows are fetched in pieces


@dataclass(frozen=True)
class VenueProfile:
    ccxt_id: str
    wallets: tuple[Wallet, ...]
    trades: tuple[TradeScope, ...]
    market_types: tuple[str, ...] | None = None  # options['fetchMarkets']['types'] when ccxt supports it
    flows: FlowMode = "split"
    flow_paginate: bool = False
    fiat: FiatStyle = "none"
    earn: EarnStyle = "none"
    # rows per request the venue documents as its maximum, for ccxt's paginator (its default asks 1,000)
    page_size: int | None = None
    funding: tuple[dict[str, object], ...] = ()  # params for fetch_funding_history(None, ...)
    flow_max_span: timedelta = MAX_SPAN  # per deposit/withdrawal request; longer windows go in pieces
    flow_offset_page: int | None = None  # `limit`/`offset` paging of deposit/withdrawal history (binance: 1,000)
    flow_lookback: timedelta = FLOW_LOOKBACK  # re-scan before each window (late flows); see LONG_FLOW_LOOKBACK
    funding_max_span: timedelta = MAX_SPAN  # per funding request
    funding_paginate: bool = False  # ccxt implements params.paginate for this venue's fetch_funding_history
    # ccxt passes some venues' raw sign through: bybit execFee for funding is + when paid. Ours: + received.
    funding_sign: int = 1
    funding_per_symbol: bool = False  # venue needs a symbol: use symbols of open positions
    positions: tuple[dict[str, object], ...] = ()  # params for fetch_positions (unrealized PnL, symbols)
    positions_add_upl: bool = False  # balances exclude open-position PnL (kraken margin): add it
    permissions: PermissionStyle = "unknown"
    options: dict[str, object] = field(default_factory=dict)
    tickers_params: dict[str, object] = field(default_factory=dict)
    wallet_address: bool = False  # api_key is a public wallet address (hyperliquid)
    load_currencies: bool = True  # False: skip fetch_currencies (private or not needed for parsing)
    serial_private_calls: bool = False  # venue checks nonce order on arrival (kraken): one at a time


SPOT = Wallet("spot", "spot", {"type": "spot"})
_BINANCE_SPOT = Wallet("spot", "spot", {"type": "spot"}, shape=("balances",))  # GET /api/v3/account
_BINANCE_SPOT_SIDE = (
    _BINANCE_SPOT,
    Wallet("funding", "spot", {"type": "funding"}, optional=True, shape=()),  # a list of assets
    Wallet("margin", "margin", {"type": "margin"}, optional=True, shape=("userAssets",)),
    # 'earn' is fetched with binance's Simple Earn endpoints (see extras.binance_earn).
)
_BINANCE_USDM_PARAMS: dict[str, object] = {"type": "future", "subType": "linear"}
_BINANCE_COINM_PARAMS: dict[str, object] = {"type": "delivery", "subType": "inverse"}
_BINANCE_USDM = Wallet("usdm", "swap", {"type": "future"}, shape=("assets",))
_BINANCE_COINM = Wallet("coinm", "futures", {"type": "delivery"}, shape=("assets",))
_BINANCE_TRADES_SPOT = (
    TradeScope("spot", {"type": "spot"}, per_symbol="spot", paginate=True),
    TradeScope("margin", {"type": "margin"}, per_symbol="margin", paginate=True),
)
_BINANCE_TRADES_USDM = (TradeScope(None, {}, per_symbol="linear", paginate=True),)
_BINANCE_TRADES_COINM = (TradeScope(None, {}, per_symbol="inverse", paginate=True),)
# fetchMargins would add two private margin-pair calls to every market load; exchangeInfo has the flag.
_BINANCE_OPTIONS: dict[str, object] = {"fetchCurrencies": False, "fetchMargins": False}

PROFILES: dict[str, VenueProfile] = {
    # One binance key sees the whole account, so `binance` covers every wallet (SPEC §7 "count every
    # wallet"); binanceusdm / binancecoinm cover only their futures wallet.
    "binance": VenueProfile(
        "binance",
        wallets=(*_BINANCE_SPOT_SIDE, _BINANCE_USDM, _BINANCE_COINM),
        trades=(*_BINANCE_TRADES_SPOT, *_BINANCE_TRADES_USDM, *_BINANCE_TRADES_COINM),
        market_types=("spot", "linear", "inverse"),
        # one day of deposits/withdrawals fits one page (binance: 1,000 rows); ccxt's backward
        # paginator would add a call per row
        flow_max_span=BINANCE_FLOW_SPAN,
        flow_offset_page=1000,
        flow_lookback=LONG_FLOW_LOOKBACK,
        fiat="binance",
        earn="binance",
        # ccxt picks USDⓈ-M or COIN-M by subType (default linear) whatever `type` says: name both
        funding=(_BINANCE_USDM_PARAMS, _BINANCE_COINM_PARAMS),
        positions=(_BINANCE_USDM_PARAMS, _BINANCE_COINM_PARAMS),
        permissions="binance",
        options=_BINANCE_OPTIONS,
        load_currencies=False,
    ),
    "binanceusdm": VenueProfile(
        "binanceusdm", wallets=(_BINANCE_USDM,), trades=_BINANCE_TRADES_USDM,
        market_types=("spot", "linear"), flows="futures_transfers", funding=(_BINANCE_USDM_PARAMS,),
        positions=(_BINANCE_USDM_PARAMS,), permissions="binance", options=_BINANCE_OPTIONS,
        load_currencies=False,
    ),
    "binancecoinm": VenueProfile(
        "binancecoinm", wallets=(_BINANCE_COINM,), trades=_BINANCE_TRADES_COINM,
        market_types=("spot", "inverse"), flows="futures_transfers", funding=(_BINANCE_COINM_PARAMS,),
        positions=(_BINANCE_COINM_PARAMS,), permissions="binance", options=_BINANCE_OPTIONS,
        load_currencies=False,
    ),
    "bybit": VenueProfile(
        "bybit",
        wallets=(
            # Unified trading account: spot, margin and derivatives in one wallet; `equity` per coin
            # includes unrealized PnL (walletBalance, ccxt's total, does not).
            # Unified wallets (bybit UTA, okx trading) are booked under "spot": one balance backs all markets.
            Wallet("unified", "spot", {"type": "unified"}, equity_field="equity", shape=("result", "list")),
            Wallet("funding", "spot", {"type": "funding"}, optional=True, shape=("result", "balance")),
        ),
        trades=(
            TradeScope("spot", {"type": "spot"}, paginate=True),
            TradeScope(None, {"type": "swap", "subType": "linear"}, paginate=True),
            TradeScope(None, {"type": "swap", "subType": "inverse"}, paginate=True),
            TradeScope(None, {"type": "option"}, paginate=True),
        ),
        market_types=("spot", "linear", "inverse"),
        flow_paginate=True,
        flow_max_span=BYBIT_FLOW_SPAN,
        flow_lookback=LONG_FLOW_LOOKBACK,
        funding=({"type": "swap", "subType": "linear"}, {"type": "swap", "subType": "inverse"}),
        funding_paginate=True,  # execution list: 50 rows a page by default, then `cursor`
        # bybit lists linear positions per settle coin (ccxt asks USDT only) and inverse ones (PnL in the
        # coin) in a category of their own: each read once
        positions=({"type": "swap", "subType": "linear", "settleCoin": "USDT"},
                   {"type": "swap", "subType": "linear", "settleCoin": "USDC"},
                   {"type": "swap", "subType": "inverse"}),
        permissions="bybit",
        earn="bybit",
        funding_sign=-1,
        tickers_params={"type": "spot"},  # ccxt's bybit default is linear swaps
        load_currencies=False,
    ),
    "okx": VenueProfile(
        "okx",
        wallets=(
            # unified: `eq` includes unrealized PnL
            Wallet("trading", "spot", {"type": "trading"}, shape=("data", 0, "details")),
            Wallet("funding", "spot", {"type": "funding"}, optional=True, shape=("data",)),
        ),
        trades=tuple(
            TradeScope(market, {"type": kind}, paginate=True)
            for market, kind in (("spot", "spot"), ("margin", "margin"), (None, "swap"), (None, "future"),
                                 (None, "option"))
        ),
        market_types=("spot", "swap", "future"),
        flows="okx",  # and funding bills: okx.py (okx pages of 100; ccxt asks 1,000 or ignores the window)
        flow_lookback=LONG_FLOW_LOOKBACK,
        earn="okx",
        page_size=100,
        positions=({},),
        permissions="okx",
        load_currencies=False,
    ),
    "bitget": VenueProfile(
        "bitget",
        wallets=(
            SPOT,
            Wallet("usdt-futures", "swap", {"type": "swap", "productType": "USDT-FUTURES"}),
            Wallet("usdc-futures", "swap", {"type": "swap", "productType": "USDC-FUTURES"}, optional=True),
            Wallet("coin-futures", "futures", {"type": "swap", "productType": "COIN-FUTURES"}, optional=True),
            Wallet("cross-margin", "margin", {"type": "margin", "marginMode": "cross"}, optional=True),
        ),
        trades=(TradeScope("spot", {"type": "spot"}, per_symbol="spot", paginate=True),
                TradeScope(None, {"type": "swap"}, per_symbol="linear", paginate=True)),
        market_types=("spot", "swap"),
        flow_paginate=True,
        funding_per_symbol=True,
        positions=({"type": "swap"},),
    ),
    "kucoin": VenueProfile(
        "kucoin",
        wallets=(
            Wallet("trade", "spot", {"type": "spot"}),
            Wallet("main", "spot", {"type": "main"}, optional=True),  # kucoin's funding account
            Wallet("margin", "margin", {"type": "margin", "marginMode": "cross"}, optional=True),
        ),
        trades=(TradeScope("spot", {"type": "spot"}),),
        flow_paginate=True,
    ),
    "gate": VenueProfile(
        "gate",
        wallets=(
            SPOT,
            Wallet("usdt-perp", "swap", {"type": "swap", "settle": "usdt"}, optional=True),
            Wallet("btc-perp", "futures", {"type": "swap", "settle": "btc"}, optional=True),
            Wallet("margin", "margin", {"type": "margin", "marginMode": "cross"}, optional=True),
            Wallet("funding", "spot", {"type": "funding"}, optional=True),
        ),
        trades=(TradeScope("spot", {"type": "spot"}, paginate=True),
                TradeScope(None, {"type": "swap", "settle": "usdt"}, paginate=True)),
        market_types=("spot", "swap"),
        flow_paginate=True,
        funding=({"type": "swap"},),
        positions=({"type": "swap"},),
    ),
    "mexc": VenueProfile(
        "mexc",
        wallets=(SPOT, Wallet("futures", "swap", {"type": "swap"}, optional=True)),
        trades=(TradeScope("spot", {"type": "spot"}, per_symbol="spot"),
                TradeScope(None, {"type": "swap"}, per_symbol="linear")),
        market_types=("spot", "swap"),
        funding=({"type": "swap"},),
        positions=({"type": "swap"},),
    ),
    "htx": VenueProfile(
        "htx",
        wallets=(SPOT, Wallet("usdt-swap", "swap", {"type": "swap", "subType": "linear"}, optional=True)),
        trades=(TradeScope("spot", {"type": "spot"}, paginate=True),),
        market_types=("spot", "linear"),
    ),
    "kraken": VenueProfile(
        "kraken",
        # BalanceEx: spot, incl. margin collateral; earn shows as ".F"/".S" assets. It takes no `type`.
        wallets=(Wallet("spot", "spot", {}, shape=("result",)),),
        trades=(TradeScope("spot"),),  # TradesHistory covers spot and margin fills
        flows="kraken",
        flow_lookback=LONG_FLOW_LOOKBACK,
        positions=({},),  # ccxt sends docalcs=true and consolidation=market, as kraken documents
        permissions="kraken",
        serial_private_calls=True,
        positions_add_upl=True,  # open margin positions' PnL is not in BalanceEx
    ),
    "coinbase": VenueProfile(
        "coinbase",
        # v2 accounts list every wallet incl. staked assets and vaults (v3 brokerage omits them)
        wallets=(Wallet("accounts", "spot", {"v3": False, "method": "v2PrivateGetAccounts"}, shape=("data",)),),
        trades=(TradeScope(None, {}, paginate=True),),
        flows="coinbase",
        options={"fetchBalance": "v2PrivateGetAccounts"},
        permissions="coinbase",
    ),
    "deribit": VenueProfile(
        "deribit",
        wallets=(Wallet("summaries", "swap", {}),),  # equity per currency incl. options/futures PnL
        trades=(TradeScope(None, {"code": "BTC"}), TradeScope(None, {"code": "ETH"}),
                TradeScope(None, {"code": "USDC"})),
        positions=({},),
    ),
    "bingx": VenueProfile(
        "bingx",
        wallets=(SPOT, Wallet("perp", "swap", {"type": "swap"}, optional=True),
                 Wallet("funding", "spot", {"type": "funding"}, optional=True)),
        trades=(TradeScope("spot", {"type": "spot"}, per_symbol="spot"),
                TradeScope(None, {"type": "swap"}, per_symbol="linear")),
        market_types=("spot", "swap"),
        funding=({"type": "swap"},),
        positions=({"type": "swap"},),
    ),
    "hyperliquid": VenueProfile(
        "hyperliquid",
        wallets=(SPOT, Wallet("perp", "swap", {"type": "swap"})),
        trades=(TradeScope(None, {}),),
        market_types=("spot", "swap"),
        funding=({},),
        positions=({},),
        permissions="read_only",
        wallet_address=True,
        load_currencies=False,
    ),
}
