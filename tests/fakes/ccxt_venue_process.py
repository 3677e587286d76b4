"""Several permissive fake ccxt venues in their own process, for load benchmarks (their CPU and memory
stay out of the measured process): `python -m tests.fakes.ccxt_venue_process binance bybit okx kraken`
prints one JSON line {venue: base_url} once all listen, then serves until terminated."""

from __future__ import annotations

import json
import sys
import threading

from tests.fakes.ccxt_venues import (
    FakeVenue,
    Scenario,
    binance_scenario,
    bybit_scenario,
    kraken_scenario,
    okx_scenario,
    start_fake_venue,
)

PRICES = {"BTC/USDT": "50000", "ETH/USDT": "3000", "BTC/USD": "50000", "ETH/USD": "3000", "USDC/USDT": "1"}


def scenario(venue: str) -> Scenario:
    """A small but real account on each venue: a few assets in a few wallets."""
    if venue == "binance":
        return binance_scenario({"spot": {"BTC": "0.5", "USDT": "1000"}, "funding": {"USDC": "200"},
                                 "usdm": {"USDT": "500"}}, PRICES, permissive=True)
    if venue == "bybit":
        return bybit_scenario({"BTC": "0.2", "USDT": "2000"}, PRICES, permissive=True)
    if venue == "okx":
        return okx_scenario({"BTC": "0.1", "USDT": "1500"}, PRICES, permissive=True)
    if venue == "kraken":
        return kraken_scenario({"XXBT": "0.3", "ZUSD": "800"}, PRICES, permissive=True)
    raise SystemExit(f"no fake for {venue}")


def main() -> None:
    venues: list[FakeVenue] = [start_fake_venue(v, scenario(v)) for v in sys.argv[1:]]
    print(json.dumps({v.venue: v.base_url for v in venues}), flush=True)  # noqa: T201 - read by the parent
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        for venue in venues:
            venue.stop()


if __name__ == "__main__":
    main()
