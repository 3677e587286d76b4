"""Entry point for the registry: create(venue, credentials, options) -> Connector for ccxt venues.

Implementation lives in app/connectors/ccxt/ (profiles per venue, pricing, holdings, activity).
ccxt itself is imported only when a connector makes its first call.
"""

from __future__ import annotations

from app.connectors.base import Connector, ConnectorOptions, Credentials
from app.connectors.ccxt.connector import CcxtConnector
from app.connectors.ccxt.profiles import PROFILES


def create(venue: str, credentials: Credentials, options: ConnectorOptions) -> Connector:
    if venue not in PROFILES:
        raise ValueError(f"not a ccxt venue: {venue[:32]!r}")
    return CcxtConnector(venue, credentials, options)
