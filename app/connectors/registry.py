"""Supported venues and how to build their connectors. Implementations import lazily (ccxt, alpaca are heavy)."""

from __future__ import annotations

import importlib
from typing import Literal, get_args

from app.connectors.base import Connector, ConnectorError, ConnectorOptions, Credentials

CCXT_VENUES = (
    "binance", "binanceusdm", "binancecoinm", "bybit", "okx", "bitget", "kucoin", "gate", "mexc", "htx",
    "kraken", "coinbase", "deribit", "bingx", "hyperliquid",
)
BROKERS = {
    "alpaca": "app.connectors.alpaca",
    "ibkr": "app.connectors.ibkr",
    "tradestation": "app.connectors.tradestation",
}
# Built in, no network: a paper account with a generated history (`make demo`). Development only.
DEMO_VENUES = {"demo": "app.connectors.demo"}
# The one list of venue names: request schemas use the type (clients see the enum), code the tuple.
Venue = Literal[
    "alpaca", "binance", "binancecoinm", "binanceusdm", "bingx", "bitget", "bybit", "coinbase", "demo", "deribit",
    "gate", "htx", "hyperliquid", "ibkr", "kraken", "kucoin", "mexc", "okx", "tradestation",
]
SUPPORTED_VENUES: tuple[str, ...] = get_args(Venue)
assert set(SUPPORTED_VENUES) == {*CCXT_VENUES, *BROKERS, *DEMO_VENUES}


class UnsupportedVenue(ValueError):
    def __init__(self, venue: str) -> None:
        super().__init__(f"unsupported exchange {venue[:32]!r}; supported: {', '.join(SUPPORTED_VENUES)}")


class DemoRefused(ConnectorError):
    """The demo venue is generated data: a production enclave never connects or syncs it."""

    kind = "demo_refused"

    def __init__(self) -> None:
        super().__init__("the demo venue is for development only; a production server refuses it "
                         "(connect a real exchange account instead)")


def check_allowed(venue: str, *, production: bool) -> None:
    if production and venue in DEMO_VENUES:
        raise DemoRefused()


def build_connector(venue: str, credentials: Credentials, options: ConnectorOptions) -> Connector:
    """Each implementation module exposes create(venue, credentials, options) -> Connector."""
    if venue in CCXT_VENUES:
        module_name = "app.connectors.ccxt_venue"
    elif venue in BROKERS:
        module_name = BROKERS[venue]
    elif venue in DEMO_VENUES:
        module_name = DEMO_VENUES[venue]
    else:
        raise UnsupportedVenue(venue)
    module = importlib.import_module(module_name)
    connector: Connector = module.create(venue, credentials, options)
    return connector
