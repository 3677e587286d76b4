"""What to fetch per venue: wallets (fetch_balance params), trade scopes, flows, funding, permissions.

Facts come from ccxt 4.5.64's own docstrings/params (read in .venv/.../ccxt/async_support/<id>.py).
A wallet's equity is booked into the AccountState market named by `Wallet.market`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal

from app.connectors.base import FLOW_LOOKBACK
from app.connectors.ccxt import htx

# split: fetch_deposits + fetch_withdrawals; per_code: fetch_deposits_withdrawals per held currency
# (coinbase keeps transactions per account and ccxt needs a code); none: flows live on another venue id
# okx: okx.py reads deposits/withdrawals and funding bills itself (documented paging and states)
# futures_transfers: a binance futures-only connection; its flows are transfers in/out of that wallet
# deribit: deribit.py reads deposits, withdrawals, transfers and trades per currency, and prices per currency
# hyperliquid: hyperliquid.py reads the ledger, funding and fills of the address, paged, and its other wallets
# htx: htx.py pages the deposit/withdraw history itself (ccxt reads one page of 100, no time filter)
# bingx: bingx.py pages both histories itself and types rows by endpoint (ccxt: one page, type by transferType)
# gate: gate.py reads deposits/withdrawals and funding (types, DEP_CREDITED, 30-day pieces, offset paging)
# mexc: mexc.py reads deposits/withdrawals and funding (statuses 1-12, 7-day pieces paged by time)
# bitget: bitget.py reads deposit/withdrawal records itself (ccxt types withdrawals "withdraw", pages once)
# kucoin: kucoin.py pages deposit/withdrawal history itself (ccxt's paginator asks pageSize > 500: refused)
# kraken: kraken.py pages DepositStatus / WithdrawStatus with kraken's cursor (25 rows a page without it)
# coinbase: coinbase.py pages v2 transactions per held currency (ccxt reads one page of 25)
FlowMode = Literal["split", "per_code", "okx", "futures_transfers", "deribit", "hyperliquid", "htx", "bingx", "gate",
                   "mexc", "bitget", "kucoin", "kraken", "coinbase", "none"]
# Wallets ccxt's fetch_balance does not read: binance Simple Earn, okx Simple Earn + on-chain earn, gate earn;
# bitget: funding (P2P) assets, Earn account and isolated margin (bitget.py);
# kucoin: cross and isolated margin, futures per settle currency, Earn holdings (kucoin.py)
EarnStyle = Literal["binance", "okx", "bybit", "gate", "bitget", "kucoin", "none"]
PermissionStyle = Literal["binance", "okx", "bybit", "kraken", "coinbase", "deribit", "htx", "bingx", "gate", "bitget",
                          "kucoin", "read_only", "unknown"]
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
    # (exchange, raw response) -> amount per asset, where ccxt's totals are wrong for the venue (htx.py)
    amounts: Callable[[Any, Any], dict[str, Decimal]] | None = None
    # A field every row there must carry (a list's items, an object's values), so a list or object of
    # something else is malformed too; None: any list or object passes.
    row_key: str | None = None
    # Raw fields of each coin row summed instead of ccxt's total ("-field" subtracts), where ccxt's total
    # leaves something out (gate futures: `total` excludes `unrealised_pnl`; margin: interest owed).
    sum_fields: tuple[str, ...] = ()
    # Raw field of each coin row holding the open positions' PnL already inside this wallet's equity, for
    # venues whose positions do not report it (mexc futures `unrealized`).
    upl_field: str | None = None


@dataclass(frozen=True)
class TradeScope:
    market: str | None  # None: classify by the traded market (swap/futures/options/spot)
    params: dict[str, object] = field(default_factory=dict)
    # 'spot'/'linear'/'inverse'/'option': ccxt needs a symbol; we discover candidate symbols of that kind
    per_symbol: str | None = None
    paginate: bool = False  # ccxt implements params.paginate for this venue's fetch_my_trades
    max_span: timedelta = MAX_SPAN  # per request; longer windows are fetched in pieces
    # The venue pages this history by `limit` (this many, its documented maximum) and `offset` (or a
    # 1-based `page`), with `from`/`to` in whole seconds: zka walks those pages itself. ccxt's dynamic
    # paginator moves `until` back 1 ms from the oldest row, which a seconds-only `to` rounds back to the
    # same second: it re-reads that second until paginationCalls runs out (gate).
    offset_page: int | None = None
    # page / page_num: 1-based; until: the venue pages by time only (`endTime` moved back to the oldest row)
    page_cursor: Literal["offset", "page", "page_num", "until"] = "offset"


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
    # venue error codes ccxt maps to the wrong class: code -> ccxt exception class name (mexc 10072
    # "Api key info invalid" is a bad key, which ccxt calls BadRequest)
    error_codes: dict[str, str] = field(default_factory=dict)


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

_GATE_MARGIN = ("available", "freeze", "-borrowed", "-interest")
_GATE_ISOLATED = ("available", "locked", "-borrowed", "-interest")
_GATE_CONTRACT = ("total", "unrealised_pnl")

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
        # API v2 classic account; every balance response is {"code", "msg", "data": [rows]}: ccxt's `info`
        # is that list (shape ()), the raw body is checked in bitget.py. Futures `accountEquity` includes
        # unrealized PnL. Funding, Earn and isolated margin: bitget.py.
        wallets=(
            Wallet("spot", "spot", {"type": "spot"}, shape=()),
            Wallet("usdt-futures", "swap", {"type": "swap", "productType": "USDT-FUTURES"}, shape=()),
            Wallet("usdc-futures", "swap", {"type": "swap", "productType": "USDC-FUTURES"}, optional=True,
                   shape=()),
            Wallet("coin-futures", "futures", {"type": "swap", "productType": "COIN-FUTURES"}, optional=True,
                   shape=()),
            Wallet("cross-margin", "margin", {"type": "margin", "marginMode": "cross"}, optional=True,
                   shape=()),
        ),
        trades=(TradeScope("spot", {"type": "spot"}, per_symbol="spot", paginate=True),
                TradeScope(None, {"type": "swap"}, per_symbol="linear", paginate=True)),
        market_types=("spot", "swap"),
        flows="bitget",
        earn="bitget",
        page_size=100,  # spot and futures fills: `limit` at most 100 (ccxt's paginator asked more: refused)
        permissions="bitget",
        load_currencies=False,
    ),
    "kucoin": VenueProfile(
        "kucoin",
        # GET /api/v1/accounts?type=...: {"code": "200000", "data": [rows]}. "spot" is `trade`, or `trade_hf`
        # on a high-frequency account (kucoin.adapt makes every client learn which). Cross and isolated
        # margin, futures and Earn: kucoin.py.
        wallets=(
            Wallet("trade", "spot", {"type": "spot"}, shape=("data",)),
            Wallet("main", "spot", {"type": "main"}, optional=True, shape=("data",)),  # kucoin's funding account
        ),
        # spot fills: /api/v1/hf/fills (`limit` at most 100) or /api/v1/fills by the account type, per symbol;
        # futures fills (futures host /api/v1/fills): every contract in one paged walk
        trades=(TradeScope("spot", {"type": "spot"}, per_symbol="spot", paginate=True),
                TradeScope(None, {"type": "swap"}, paginate=True)),
        flows="kucoin",
        earn="kucoin",
        page_size=100,
        positions=({},),  # futures GET /api/v1/positions: every open position, PnL in its settle currency
        permissions="kucoin",
        load_currencies=False,
    ),
    "gate": VenueProfile(
        "gate",
        # Classic account. Legacy unified keys (mode 2) are not read: ccxt would read the one unified
        # account once per wallet below; `unifiedAccount: False` keeps every wallet on its own endpoint.
        wallets=(
            Wallet("spot", "spot", {"type": "spot"}, shape=(), row_key="currency"),  # GET /spot/accounts
            # GET /margin/cross/accounts: balances {coin: {available, freeze, borrowed, interest}}
            Wallet("cross-margin", "margin", {"type": "spot", "marginMode": "cross"}, optional=True,
                   shape=("balances",), row_key="available", sum_fields=_GATE_MARGIN),
            # GET /margin/accounts: per pair {base: {...}, quote: {...}} with `locked` for frozen
            Wallet("isolated-margin", "margin", {"type": "spot", "marginMode": "isolated"}, optional=True,
                   shape=(), row_key="currency_pair", sum_fields=_GATE_ISOLATED),
            # GET /futures/{settle}/accounts, /delivery/usdt/accounts, /options/accounts: one object each
            # (ccxt wraps it in a list); `total` is the balance without open positions' PnL
            Wallet("usdt-perp", "swap", {"type": "swap", "settle": "usdt"}, optional=True, shape=(),
                   row_key="unrealised_pnl", sum_fields=_GATE_CONTRACT),
            Wallet("btc-perp", "swap", {"type": "swap", "settle": "btc"}, optional=True, shape=(),
                   row_key="unrealised_pnl", sum_fields=_GATE_CONTRACT),
            Wallet("usdt-delivery", "futures", {"type": "future", "settle": "usdt"}, optional=True, shape=(),
                   row_key="unrealised_pnl", sum_fields=_GATE_CONTRACT),
            Wallet("options", "options", {"type": "option"}, optional=True, shape=(),
                   row_key="unrealised_pnl", sum_fields=_GATE_CONTRACT),
        ),
        # GET /spot/my_trades (account spot | cross_margin | margin: `page`), /futures/{settle}/
        # my_trades_timerange and /delivery/usdt/my_trades (`offset`): `limit` at most 1,000
        trades=(TradeScope("spot", {"type": "spot"}, offset_page=1000, page_cursor="page"),
                TradeScope("margin", {"type": "spot", "marginMode": "cross"}, offset_page=1000, page_cursor="page"),
                TradeScope("margin", {"type": "spot", "marginMode": "isolated"}, offset_page=1000,
                           page_cursor="page"),
                TradeScope(None, {"type": "swap", "settle": "usdt"}, offset_page=1000),
                TradeScope(None, {"type": "swap", "settle": "btc"}, offset_page=1000),
                TradeScope(None, {"type": "future", "settle": "usdt"}, offset_page=1000)),
        market_types=("spot", "swap", "future"),
        flows="gate",  # and funding: gate.py (type by endpoint, DEP_CREDITED, 30-day pieces, offset paging)
        earn="gate",
        positions=({"type": "swap", "settle": "usdt"}, {"type": "swap", "settle": "btc"},
                   {"type": "future", "settle": "usdt"}),
        permissions="gate",
        # markets: ccxt's defaults load usdt and btc perpetuals and usdt delivery contracts
        options={"unifiedAccount": False},
        tickers_params={"type": "spot"},
        load_currencies=False,
    ),
    "mexc": VenueProfile(
        "mexc",
        wallets=(
            Wallet("spot", "spot", {"type": "spot"}, shape=("balances",), row_key="asset"),  # GET /api/v3/account
            # GET /api/v1/private/account/assets: `equity` per currency includes position margin and open
            # PnL; ccxt's total (available + frozen) leaves both out
            Wallet("futures", "swap", {"type": "swap"}, optional=True, equity_field="equity", shape=("data",),
                   row_key="currency", upl_field="unrealized"),
        ),
        # spot fills need a symbol (GET /api/v3/myTrades); futures fills (order_deals) too, 100 a page
        # (symbols: held assets; futures: open positions and funding of the window)
        trades=(TradeScope("spot", {"type": "spot"}, per_symbol="spot", offset_page=100, page_cursor="until",
                           max_span=timedelta(days=1)),  # myTrades: 100 a request, by time only
                TradeScope(None, {"type": "swap"}, per_symbol="linear", offset_page=100, page_cursor="page_num"),
                TradeScope(None, {"type": "swap"}, per_symbol="inverse", offset_page=100, page_cursor="page_num")),
        market_types=("spot", "swap"),
        flows="mexc",  # and funding: mexc.py
        positions=({"type": "swap"},),  # symbols for the futures fills; PnL comes from the wallet
        load_currencies=False,
        error_codes={"10072": "AuthenticationError"},
    ),
    "htx": VenueProfile(
        "htx",
        wallets=(
            # every documented balance type counted, loans and interest subtracted (htx.net_amounts)
            Wallet("spot", "spot", {"type": "spot"}, shape=("data", "list"), amounts=htx.net_amounts),
            Wallet("cross-margin", "margin", {"type": "margin", "marginMode": "cross"}, optional=True,
                   shape=("data", "list"), amounts=htx.net_amounts),
            Wallet("isolated-margin", "margin", {"type": "margin", "marginMode": "isolated"}, optional=True,
                   shape=("data",), amounts=htx.net_amounts),
            # USDT-margined (v5 account): `equity` per margin currency incl. unrealized PnL (ccxt's total)
            Wallet("usdt-m", "swap", {"type": "swap", "subType": "linear"}, optional=True,
                   shape=("data", "details")),
            # ccxt's fetch_balance takes the sub-type from `defaultSubType` (its option: linear) before
            # `subType`, so {"subType": "inverse"} read the USDT-margined account again: name it that way
            Wallet("coin-m-futures", "futures", {"type": "future", "defaultSubType": "inverse"}, optional=True,
                   shape=("data",), amounts=htx.margin_balances),
            Wallet("coin-m-swaps", "swap", {"type": "swap", "defaultSubType": "inverse"}, optional=True,
                   shape=("data",), amounts=htx.margin_balances),
        ),
        # GET /v1/order/matchresults: at most 48 hours per request, pages of at most 500
        trades=(TradeScope("spot", {"type": "spot"}, paginate=True, max_span=timedelta(days=2)),),
        page_size=500,
        # ccxt's htx takes {"spot": True, ...}, not a list (a list made every market load fail)
        options={"fetchMarkets": {"types": {"spot": True, "linear": True, "inverse": True}}},
        flows="htx",
        positions=({"subType": "linear"}, {"type": "future", "subType": "inverse"},
                   {"type": "swap", "subType": "inverse"}),
        permissions="htx",
        load_currencies=False,  # public chain list; flows are read by htx.py, which needs no network names
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
        # One summary per currency (BTC, ETH, USDC, USDT, EURR, ...): `equity` = balance + futures session
        # PnL + options value, so futures and options positions are in it (positions only give unrealized).
        wallets=(Wallet("summaries", "swap", {}, shape=("summaries",)),),
        # deribit.py: trades per currency with start/end timestamps, amounts turned into contracts
        trades=tuple(TradeScope(None, {"code": code}) for code in ("BTC", "ETH", "USDC", "USDT", "EURR")),
        flows="deribit",
        positions=({},),  # get_positions without a currency: every currency and kind
        permissions="deribit",
    ),
    "bingx": VenueProfile(
        "bingx",
        wallets=(
            Wallet("spot", "spot", {"type": "spot"}, shape=("data", "balances")),
            # perpetual accounts: `equity` (balance + unrealized PnL). ccxt's total is maxWithdrawAmount,
            # absent from the v3 answer, so it fell back to available + used margin (no PnL, no frozen margin)
            Wallet("perp", "swap", {"type": "swap"}, optional=True, equity_field="equity", shape=("data",)),
            Wallet("coin-m-perp", "swap", {"type": "swap", "subType": "inverse"}, optional=True,
                   equity_field="equity", shape=("data",)),
            Wallet("funding", "spot", {"type": "funding"}, optional=True, shape=("data", "assets")),
        ),
        trades=(TradeScope("spot", {"type": "spot"}, per_symbol="spot"),
                TradeScope(None, {"type": "swap"}, per_symbol="linear")),
        market_types=("spot", "swap"),
        flows="bingx",
        # income history: `limit` default 100, at most 1,000: one day per request, asked at the maximum
        funding=({"limit": 1000},),
        funding_max_span=timedelta(days=1),
        positions=({"type": "swap"}, {"type": "swap", "subType": "inverse"}),
        permissions="bingx",
        error_codes={"100413": "AuthenticationError"},  # "Incorrect apiKey"
        load_currencies=False,  # a private call (capital/config/getall) nothing here needs
    ),
    "hyperliquid": VenueProfile(
        "hyperliquid",
        # spot balances (`spotClearinghouseState`); the perp account, vaults and staking: hyperliquid.py.
        # enableUnifiedMargin False: ccxt would otherwise read spot again for the perp wallet.
        wallets=(Wallet("spot", "spot", {"type": "spot", "enableUnifiedMargin": False}, shape=("balances",)),),
        trades=(TradeScope(None, {}),),  # userFillsByTime, paged (hyperliquid.py)
        market_types=("spot", "swap"),  # HIP-3 builder dexes are not read (see README)
        flows="hyperliquid",
        positions=({},),  # clearinghouseState: shared with the perp wallet, asked once
        permissions="read_only",
        wallet_address=True,
        load_currencies=False,
    ),
}
