"""ccxt smoke, per venue: what plain ccxt 4.5.64 parses from each fake's responses, with no zka code in
between. The numbers must be the scenario's (so the fake speaks the venue's format as ccxt reads it), and
where ccxt's reading differs from the venue's documented meaning, the test pins it: that is why zka reads
those endpoints itself (binance fiat, okx history and earn, kraken permissions; issue 19).
"""

from __future__ import annotations

from typing import Any

import ccxt.async_support as ccxt_async

from app.connectors.ccxt.client import rewrite_urls, strictly_increasing_nonces
from tests.connectors.test_ccxt_binance import COINM_POSITION, USDM_POSITION
from tests.connectors.test_ccxt_binance import PRICES as BINANCE_PRICES
from tests.connectors.test_ccxt_bybit import scenario as bybit_full
from tests.connectors.test_ccxt_kraken import scenario as kraken_full
from tests.connectors.test_ccxt_okx import PRICES as OKX_PRICES
from tests.fakes.ccxt_venues import (
    IN_WINDOW_MS,
    OUT_OF_WINDOW_MS,
    Scenario,
    binance_scenario,
    fake_venue,
    fixture,
    okx_scenario,
)


def plain(venue: str, base_url: str, sc: Scenario) -> Any:
    config: dict[str, Any] = {"apiKey": sc.api_key, "secret": sc.api_secret, "enableRateLimit": False}
    if sc.passphrase:
        config["password"] = sc.passphrase
    if venue == "binance":
        config["options"] = {"fetchMargins": False}  # two private calls per market load, not served
    exchange = getattr(ccxt_async, venue)(config)
    exchange.has["fetchCurrencies"] = False  # a private currency list these fakes do not serve
    exchange.urls["api"] = rewrite_urls(exchange.urls["api"], base_url)
    exchange.timeout_on_exit = 0
    # ccxt's kraken nonce is the clock in ms: two calls in one ms sign the same nonce and kraken (and its
    # fake) refuses the second. Kraken's docs ask clients for strictly increasing nonces; so does zka.
    strictly_increasing_nonces(exchange, sc.api_key)
    return exchange


async def test_binance_as_plain_ccxt_reads_it() -> None:
    fiat = {"transactionType": "0", "orderNo": "f1", "fiatCurrency": "EUR", "indicatedAmount": "1000",
            "amount": "998.5", "totalFee": "1.5", "method": "BankAccount", "status": "Finished",
            "createTime": IN_WINDOW_MS, "updateTime": IN_WINDOW_MS}
    deposit = fixture("binance", "fetchDeposits")[0]
    sc = binance_scenario({"spot": {"BTC": "0.5", "USDT": "1000"}, "coinm": {"BTC": "0.01"}}, BINANCE_PRICES,
                          deposits=[deposit], positions={"usdm": [USDM_POSITION], "coinm": [COINM_POSITION]},
                          fiat_orders=[fiat])
    with fake_venue("binance", sc) as venue:
        ex = plain("binance", venue.base_url, sc)
        try:
            spot = await ex.fetch_balance({"type": "spot"})
            coinm = await ex.fetch_balance({"type": "delivery"})
            inverse = await ex.fetch_positions(None, {"type": "delivery", "subType": "inverse"})
            by_type_only = await ex.fetch_positions(None, {"type": "delivery"})
            crypto = await ex.fetch_deposits(None, OUT_OF_WINDOW_MS, None, {"until": IN_WINDOW_MS + 86_400_000})
            fiat_rows = await ex.fetch_deposits(None, OUT_OF_WINDOW_MS, None, {"fiat": True})
        finally:
            await ex.close()
    assert (spot["total"]["BTC"], spot["total"]["USDT"]) == (0.5, 1000)
    assert coinm["total"]["BTC"] == 0.01
    assert [(p["symbol"], p["unrealizedPnl"]) for p in inverse] == [("BTC/USD:BTC", 0.01352)]
    # ccxt picks the wallet by subType (default linear): {"type": "delivery"} alone reads USDⓈ-M (item 1)
    assert [(p["symbol"], p["unrealizedPnl"]) for p in by_type_only] == [("BTC/USDT:USDT", -520.0)]
    assert [(t["currency"], t["amount"], t["status"]) for t in crypto] == [("USDT", 10.0, "ok")]
    # binance documents "Finished" as a completed fiat order; ccxt passes it through, so a filter on "ok"
    # drops it: zka reads fiat orders itself (item 3)
    assert [(t["currency"], t["amount"], t["status"]) for t in fiat_rows] == [("EUR", 998.5, "Finished")]


async def test_okx_as_plain_ccxt_reads_it() -> None:
    credited = {"ccy": "USDT", "chain": "USDT-TRC20", "amt": "100", "from": "", "to": "T", "txId": "0xdep",
                "ts": str(IN_WINDOW_MS), "state": "1", "depId": "11", "actualDepBlkConfirm": "2"}
    sc = okx_scenario({"BTC": "0.5"}, OKX_PRICES, funding={"USDT": "200"}, savings={"USDT": "1500"},
                      deposits=[credited])
    with fake_venue("okx", sc) as venue:
        ex = plain("okx", venue.base_url, sc)
        try:
            trading = await ex.fetch_balance({"type": "trading"})
            funding = await ex.fetch_balance({"type": "funding"})
            deposits = await ex.fetch_deposits()
            refused = None
            try:
                await ex.fetch_deposits(None, None, None, {"paginate": True})  # ccxt pages with limit=1000
            except Exception as exc:  # noqa: BLE001 - the fake answers as okx does: 51000
                refused = type(exc).__name__
        finally:
            await ex.close()
    assert trading["total"]["BTC"] == 0.5 and funding["total"]["USDT"] == 200
    assert "USDT" not in trading["total"]  # Simple Earn is in no fetch_balance wallet (item 11)
    # okx state 1 = credited (in the balance); ccxt calls it pending (item 13)
    assert [(t["amount"], t["status"]) for t in deposits] == [(100.0, "pending")]
    assert refused == "BadRequest"  # limit 1000 > okx's documented 100 (item 12)


async def test_kraken_as_plain_ccxt_reads_it() -> None:
    sc = kraken_full()
    with fake_venue("kraken", sc) as venue:
        ex = plain("kraken", venue.base_url, sc)
        try:
            balance = await ex.fetch_balance()
            positions = await ex.fetch_positions()
            deposits = await ex.fetch_deposits()
            withdrawals = await ex.fetch_withdrawals()
            key = await ex.privatePostGetApiKeyInfo()
        finally:
            await ex.close()
    assert {code: balance["total"][code] for code in ("BTC", "USD", "USDT", "DOT.S")} == {
        "BTC": 0.5, "USD": 100, "USDT": 10, "DOT.S": 3}
    assert round(sum(p["unrealizedPnl"] for p in positions), 8) == -0.01022
    assert sorted((t["amount"], t["status"]) for t in deposits) == [(9.0, "ok"), (999.0, "ok")]
    assert [(t["amount"], t["fee"]["cost"], t["status"]) for t in withdrawals] == [(10.0, 3.0, "ok")]
    assert "withdraw-funds" not in key["result"]["permissions"]


async def test_bybit_as_plain_ccxt_reads_it() -> None:
    sc = bybit_full()
    with fake_venue("bybit", sc) as venue:
        ex = plain("bybit", venue.base_url, sc)
        try:
            unified = await ex.fetch_balance({"type": "unified"})
            deposits = await ex.fetch_deposits()
            withdrawals = await ex.fetch_withdrawals()
        finally:
            await ex.close()
    assert (unified["total"]["BTC"], unified["total"]["USDT"]) == (0.5, 1000)
    assert [(t["amount"], t["status"]) for t in deposits] == [(100.0, "ok")]
    assert sorted((t["amount"], t["status"]) for t in withdrawals) == [(50.0, "ok"), (500.0, "ok")]
