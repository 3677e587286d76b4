"""KuCoin (classic account, high-frequency spot: main, trade/trade_hf, cross and isolated margin, futures of
every settle currency, Earn) through real ccxt against the fake in tests/fakes/venues/kucoin.py.

Prices: BTC/USDT 50,000; USDC/USDT 0.9998; KCS/USDT 10; DOT trades only against BTC (DOT/BTC 0.00014 -> 7
USD). KuCoin has no USD market, so USDT is the numeraire (1).
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial

import pytest

from app.connectors.base import (
    ConnectorError,
    Permission,
)
from tests.connectors.checks import permissions_asked, refused_without_secrets
from tests.connectors.test_ccxt_smoke import plain
from tests.fakes.ccxt_venues import (
    IN_WINDOW_MS,
    OUT_OF_WINDOW_MS,
    WINDOW,
    Scenario,
    deposits_counted_daily,
    fake_venue,
    venue_connector,
)
from tests.fakes.venues.kucoin import PRICES, deposit, fill, futures_fill, position, scenario, withdrawal

POSITIONS = [position("XBTUSDTM", "USDT", 2, "-20", False), position("XBTUSDM", "XBT", 100, "0.0002", True)]


def full(permission: str = "General", hf: bool = True) -> Scenario:
    spot = {"BTC": "0.5", "USDT": "1000", "DOT": "100", "XYZ": "3"}
    return scenario(
        None if hf else spot, PRICES, hf=hf, trade_hf=spot if hf else None, main={"USDT": "250", "KCS": "10"},
        cross_margin={"BTC": ("0.1", "0.02"), "USDT": ("100", "0")},
        isolated_margin={"BTC-USDT": (("BTC", "0.01", "0"), ("USDT", "200", "50"))},
        futures={"USDT": "2000", "XBT": "0.01"}, earn={"USDT": "400", "KCS": "5"}, positions=POSITIONS,
        deposits=[deposit("1", "USDT", "100", IN_WINDOW_MS), deposit("0", "USDT", "999", OUT_OF_WINDOW_MS),
                  deposit("2", "USDT", "777", IN_WINDOW_MS, status="PROCESSING"),
                  deposit("3", "USDC", "50", IN_WINDOW_MS, inner=True)],  # from another kucoin user
        withdrawals=[withdrawal("1", "USDT", "30", "1", IN_WINDOW_MS),
                     withdrawal("2", "BTC", "0.01", "0.0005", IN_WINDOW_MS),
                     withdrawal("3", "USDT", "70", "1", IN_WINDOW_MS, status="FAILURE")],
        hf_fills=[fill("BTC-USDT", 11, IN_WINDOW_MS), fill("BTC-USDT", 10, OUT_OF_WINDOW_MS)],
        futures_fills=[futures_fill("XBTUSDTM", 21, IN_WINDOW_MS, "50000", 2, "0.06", "USDT"),
                       futures_fill("XBTUSDM", 22, IN_WINDOW_MS, "50000", 100, "0.00000012", "XBT"),
                       futures_fill("XBTUSDTM", 20, OUT_OF_WINDOW_MS, "50000", 9, "9", "USDT")],
        permission=permission)


connector = partial(venue_connector, "kucoin")


async def test_kucoin_state_per_field() -> None:
    sc = full()
    with fake_venue("kucoin", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    # trade_hf: 0.5 BTC 25,000 + 1,000 USDT + 100 DOT x 0.00014 BTC x 50,000 = 700; main: 250 USDT + 10 KCS 100
    assert state.markets["spot"].equity == Decimal("27050")
    # cross: (0.1 - 0.02) BTC 4,000 + 100 USDT; isolated BTC-USDT: 0.01 BTC 500 + (200 - 50) USDT
    assert state.markets["margin"].equity == Decimal("4750")
    # futures: USDT account 2,000 + XBT account 0.01 BTC 500 (accountEquity includes open PnL)
    assert state.markets["swap"].equity == Decimal("2500")
    assert state.markets["earn"].equity == Decimal("450")  # 400 USDT + 5 KCS x 10
    assert state.total_equity == Decimal("34750")
    assert state.unpriced_assets == {"XYZ": "3"}
    assert state.cash == Decimal("3900")  # USDT 1,000 + 250 + 100 + 150 + 2,000 + 400
    assert state.unrealized_pnl == Decimal("-10")  # -20 USDT + 0.0002 XBT x 50,000
    # 100 USDT + 50 USDC x 0.9998 (inner transfer from another user); PROCESSING and the 05-04 one not
    assert state.deposits == Decimal("149.99")
    # (30 + 1 fee) USDT + (0.01 + 0.0005 fee) BTC x 50,000; the FAILURE one not
    assert state.withdrawals == Decimal("556")
    spot = state.markets["spot"]
    assert (spot.trades, spot.volume, spot.fees) == (1, Decimal("1000"), Decimal("1"))
    # futures: 2 XBTUSDTM x 0.001 BTC x 50,000 = 100, fee 0.06 USDT; 100 XBTUSDM x 1 USD = 100, fee
    # 0.00000012 XBT x 50,000 = 0.006; the fill of 05-04 not
    swap = state.markets["swap"]
    assert (swap.trades, swap.volume, swap.fees) == (2, Decimal("200"), Decimal("0.066"))
    calls = venue.paths()
    for path, count in {"/api/v1/accounts": 2, "/api/v3/margin/accounts": 1, "/api/v3/isolated/accounts": 1,
                        "/api/v1/account-overview": 2, "/api/v1/earn/hold-assets": 1, "/api/v1/positions": 1,
                        "/api/v1/deposits": 1, "/api/v1/withdrawals": 1, "/api/v1/hf/accounts/opened": 1,
                        "/api/ua/v1/account/mode": 1, "/api/v2/symbols": 1, "/api/v1/contracts/active": 1,
                        "/api/v1/market/allTickers": 2,  # markets (fees) and the price snapshot
                        "/api/v1/fills": 1,  # futures fills, every contract at once
                        "/api/v1/user/api-key": 0}.items():
        assert calls.count(path) == count, path
    # hf fills per held/moved coin's market: BTC-USDT, USDC-USDT, KCS-USDT, DOT-BTC
    assert calls.count("/api/v1/hf/fills") == 4


async def test_a_high_frequency_account_reads_the_same_with_cached_markets() -> None:
    """ccxt learns that an account is high-frequency only while loading markets; the second client of the
    day got cached markets, read `trade` instead of `trade_hf` and lost the spot balance."""
    sc = full()
    cache: dict[str, object] = {}
    with fake_venue("kucoin", sc) as venue:
        first = await connector(venue.base_url, sc, cache=cache).fetch_account_state(WINDOW)
        second = await connector(venue.base_url, sc, cache=cache).fetch_account_state(WINDOW)
    assert second.total_equity == first.total_equity == Decimal("34750")
    assert second.markets["spot"].trades == 1
    assert venue.paths().count("/api/v2/symbols") == 1  # markets loaded once
    assert venue.paths().count("/api/v1/hf/accounts/opened") == 2  # each client knows its account type


async def test_a_classic_account_reads_trade_and_classic_fills() -> None:
    sc = full(hf=False)
    with fake_venue("kucoin", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert state.total_equity == Decimal("34750")
    # classic spot fills per symbol too (BTC-USDT, USDC-USDT, KCS-USDT, DOT-BTC) + futures once; never HF
    assert venue.paths().count("/api/v1/hf/fills") == 0 and venue.paths().count("/api/v1/fills") == 5


async def test_a_unified_account_is_refused_not_read_as_empty() -> None:
    sc = full()
    sc.responses["/api/ua/v1/account/mode"] = {"code": "200000", "data": {"selfAccountMode": "UNIFIED"}}
    with fake_venue("kucoin", sc) as venue:
        with pytest.raises(ConnectorError, match="unified trading accounts"):
            await connector(venue.base_url, sc).check_credentials()


@pytest.mark.parametrize(("permission", "expected"), [
    ("General", {Permission.READ}),
    ("General,Spot,Futures", {Permission.READ, Permission.TRADE}),
    ("General, Transfer", {Permission.READ, Permission.WITHDRAW}),
    ("General,Spot,Withdrawal", {Permission.READ, Permission.TRADE, Permission.WITHDRAW}),
])
async def test_kucoin_permissions_from_api_key_info(permission: str, expected: set[Permission]) -> None:
    assert await permissions_asked("kucoin", full(permission)) == (expected, ["/api/v1/user/api-key"])


async def test_kucoin_wrong_passphrase_is_auth_error_without_secrets() -> None:
    await refused_without_secrets("kucoin", full(), passphrase="not-the-passphrase")


async def test_kucoin_as_plain_ccxt_reads_it() -> None:
    """ccxt smoke: plain ccxt's parse of the fake equals the scenario; where it differs from KuCoin's
    documented meaning the test pins it (why kucoin.py reads or fixes those reads)."""
    sc = full()
    window = {"until": WINDOW.end_ms - 1}
    with fake_venue("kucoin", sc) as venue:
        loader = plain("kucoin", venue.base_url, sc)
        cached = plain("kucoin", venue.base_url, sc)
        try:
            spot = await loader.fetch_balance({"type": "spot"})  # this client loaded markets: knows HF
            await loader.load_markets()
            cached.set_markets(loader.markets, loader.currencies)  # as zka's per-day market cache does
            cached_spot = await cached.fetch_balance({"type": "spot"})
            main = await loader.fetch_balance({"type": "main"})
            try:
                await loader.fetch_balance({"type": "margin", "marginMode": "cross"})
                retired = None
            except Exception as exc:  # noqa: BLE001 - the fake serves the documented v3 path only
                retired = type(exc).__name__
            futures = await loader.fetch_balance({"type": "swap"})
            positions = await loader.fetch_positions()
            deposits = await loader.fetch_deposits(None, WINDOW.start_ms, None, window)
            withdrawals = await loader.fetch_withdrawals(None, WINDOW.start_ms, None, window)
            try:
                await loader.fetch_deposits(None, WINDOW.start_ms, None, {**window, "paginate": True})
                refused = None
            except Exception as exc:  # noqa: BLE001 - the fake answers as kucoin does: 400100
                refused = type(exc).__name__
        finally:
            await loader.close()
            await cached.close()
    assert (spot["total"]["BTC"], spot["total"]["USDT"], spot["total"]["DOT"]) == (0.5, 1000, 100)
    assert cached_spot["total"].get("BTC") is None  # no HF flag: `trade` read, the trade_hf balance lost
    assert (main["total"]["USDT"], main["total"]["KCS"]) == (250, 10)
    assert retired is not None  # ccxt asks GET /api/v1/margin/account, not the documented v3 path
    assert futures["total"] == {"USDT": 2000}  # one settle currency only: the XBT account is not read
    assert sorted((p["symbol"], p["unrealizedPnl"]) for p in positions) == [
        ("BTC/USD:BTC", 0.0002), ("BTC/USDT:USDT", -20)]
    assert sorted((t["currency"], t["amount"], t["status"]) for t in deposits) == [
        ("USDC", 50, "ok"), ("USDT", 100, "ok"), ("USDT", 777, "pending")]
    assert sorted((t["type"], t["currency"], t["amount"], t["fee"]["cost"], t["status"]) for t in withdrawals) == [
        ("withdrawal", "BTC", 0.01, 0.0005, "ok"), ("withdrawal", "USDT", 30, 1, "ok"),
        ("withdrawal", "USDT", 70, 1, "failed")]
    assert refused == "BadRequest"  # ccxt's paginator asks pageSize above kucoin's 500


async def test_more_history_than_one_page_is_read_whole() -> None:
    """Deposit history: 500 rows a page (ccxt's default page is 50 rows: the rest was lost without a word);
    1,200 deposits of one day, 130 HF spot fills (100 a page) and 600 futures fills are all counted."""
    deposits = [deposit(str(n), "USDT", "1", IN_WINDOW_MS - n * 10) for n in range(1200)]
    fills = [fill("BTC-USDT", 1000 + n, IN_WINDOW_MS - n * 1000) for n in range(130)]
    contract_fills = [futures_fill("XBTUSDTM", 5000 + n, IN_WINDOW_MS - n * 100, "50000", 1, "0", "USDT")
                      for n in range(600)]
    sc = scenario(prices=PRICES, trade_hf={"BTC": "1"}, deposits=deposits, hf_fills=fills,
                  futures_fills=contract_fills)
    with fake_venue("kucoin", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    assert state.deposits == Decimal("1200")
    assert venue.paths().count("/api/v1/deposits") == 3
    assert state.markets["spot"].trades == 130
    assert state.markets["swap"].trades == 600  # futures fills: 500 a page
    assert venue.paths().count("/api/v1/fills") == 2


async def test_a_deposit_completed_one_and_three_days_late_counts_once() -> None:
    old = deposit("9", "USDT", "700", OUT_OF_WINDOW_MS)
    one_day = deposit("10", "USDT", "10", IN_WINDOW_MS, status="PROCESSING")
    three_days = deposit("11", "USDT", "30", IN_WINDOW_MS, status="PROCESSING")
    sc = scenario(prices=PRICES, trade_hf={"USDT": "10"}, deposits=[old, one_day, three_days])
    counted = await deposits_counted_daily("kucoin", sc, {2: lambda: one_day.update(status="SUCCESS"),
                                                          4: lambda: three_days.update(status="SUCCESS")})
    assert counted == [0, 0, 10, 0, 30, 0]
