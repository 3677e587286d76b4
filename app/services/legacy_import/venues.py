"""The original's venue names → zka's (reference ts-original.md §15; src/connectors/ExchangeConnectorFactory.ts
at 100cf59). The original sent `binance_futures` and `binanceusdm` to ccxt's `binance`, and `huobi` is
ccxt's `htx` today. A name zka does not serve maps to None: the connection is imported inactive."""

from __future__ import annotations

from app.connectors.registry import BROKERS, CCXT_VENUES

RENAMED = {"binance_futures": "binance", "binanceusdm": "binance", "huobi": "htx"}


def zka_venue(original: str) -> str | None:
    name = original.strip().lower()
    name = RENAMED.get(name, name)
    return name if name in CCXT_VENUES or name in BROKERS else None
