"""bitget (API v2 classic account: spot, USDT-/USDC-/COIN-margined futures, cross and isolated margin,
funding, Earn) through real ccxt against the fake in tests/fakes/venues/bitget.py.

Prices: BTC/USDT 50,000; ETH/USDT 3,000; USDC/USDT 0.9998; BGB/USDT 1.2; LTC trades only against BTC
(LTC/BTC 0.0016 -> 80 USD). bitget has no USD market, so USDT is the numeraire (1).
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

import pytest

from app.connectors.base import (
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
from tests.fakes.venues.bitget import PRICES as BASE_PRICES
from tests.fakes.venues.bitget import bill, deposit, futures_fill, position, scenario, withdrawal

PRICES = {**BASE_PRICES, "BGB/USDT": "1.2"}
POSITIONS = {
    "USDT-FUTURES": [position("BTCUSDT", "USDT", "long", "0.1", "-20", "USDT-FUTURES")],
    "USDC-FUTURES": [position("BTCPERP", "USDC", "short", "0.05", "10", "USDC-FUTURES")],
    "COIN-FUTURES": [position("BTCUSD", "BTC", "long", "0.2", "0.0002", "COIN-FUTURES")],
}


def _fill(symbol: str, trade_id: str, ms: int) -> dict[str, Any]:
    """GET /api/v2/spot/trade/fills row (spot/trade/Get-Fills)."""
    return {"userId": "1234567890", "symbol": symbol, "orderId": f"9{trade_id}", "tradeId": trade_id,
            "orderType": "market", "side": "buy", "priceAvg": "50000", "size": "0.02", "amount": "1000",
            "feeDetail": {"deduction": "no", "feeCoin": "BTC", "totalDeductionFee": "", "totalFee": "-0.00002"},
            "tradeScope": "taker", "cTime": str(ms), "uTime": str(ms)}


def full(authorities: list[str] | None = None) -> Scenario:
    return scenario(
        {"BTC": "0.5", "USDT": "1000", "LTC": "10", "XYZ": "3"}, PRICES,
        futures={"USDT-FUTURES": {"USDT": ("2000", "-20")}, "USDC-FUTURES": {"USDC": ("500", "10")},
                 "COIN-FUTURES": {"BTC": ("0.01", "0.0002")}},
        cross_margin={"BTC": ("0.1", "0.02"), "USDT": ("100", "0")},
        isolated_margin={"BTCUSDT": [("BTC", "0.01", "0"), ("USDT", "200", "50")],
                         "ETHUSDT": [("ETH", "1", "0"), ("USDT", "300", "0")]},
        funding={"USDT": "250"}, earn={"BGB": "100", "USDT": "400"}, positions=POSITIONS,
        deposits=[deposit("1001", "USDT", "100", IN_WINDOW_MS),
                  deposit("1000", "USDT", "999", OUT_OF_WINDOW_MS),
                  deposit("1002", "USDT", "777", IN_WINDOW_MS, status="pending"),
                  deposit("1003", "USDC", "50", IN_WINDOW_MS, dest="internal_transfer")],  # from another user
        withdrawals=[withdrawal("2001", "USDT", "30", "-1.5", IN_WINDOW_MS),
                     withdrawal("2002", "BTC", "0.01", "-0.0005", IN_WINDOW_MS),
                     withdrawal("2003", "USDT", "70", "-1", IN_WINDOW_MS, status="fail")],
        spot_fills=[_fill("BTCUSDT", "1", IN_WINDOW_MS), _fill("BTCUSDT", "0", OUT_OF_WINDOW_MS)],
        futures_fills=[futures_fill("701", "USDT-FUTURES", "BTCUSDT", "50000", "0.02", "0.6", "USDT", IN_WINDOW_MS),
                       futures_fill("702", "USDC-FUTURES", "BTCPERP", "50000", "0.01", "0.3", "USDC", IN_WINDOW_MS),
                       futures_fill("700", "USDT-FUTURES", "BTCUSDT", "50000", "9", "9", "USDT", OUT_OF_WINDOW_MS)],
        bills=[bill("501", "USDT-FUTURES", "BTCUSDT", "USDT", "-1.5", IN_WINDOW_MS),
               bill("502", "USDC-FUTURES", "BTCPERP", "USDC", "0.5", IN_WINDOW_MS),
               bill("503", "COIN-FUTURES", "BTCUSD", "BTC", "-0.00001", IN_WINDOW_MS),
               bill("500", "USDT-FUTURES", "BTCUSDT", "USDT", "-9", OUT_OF_WINDOW_MS),
               bill("504", "USDT-FUTURES", "BTCUSDT", "USDT", "-7", IN_WINDOW_MS, business="open_long")],
        authorities=authorities)


connector = partial(venue_connector, "bitget")


async def test_bitget_state_per_field() -> None:
    sc = full()
    with fake_venue("bitget", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    # spot: 0.5 BTC 25,000 + 1,000 USDT + 10 LTC x 0.0016 BTC x 50,000 = 800; funding 250 USDT
    assert state.markets["spot"].equity == Decimal("27050")
    # USDT-M accountEquity 2,000 (incl. its -20 PnL) + USDC-M 500 USDC x 0.9998 = 499.9
    assert state.markets["swap"].equity == Decimal("2499.9")
    assert state.markets["futures"].equity == Decimal("500")  # COIN-M 0.01 BTC
    # cross: (0.1 - 0.02 borrowed) BTC = 4,000 + 100 USDT; isolated: 0.01 BTC 500 + (150 + 300) USDT + 1 ETH 3,000
    assert state.markets["margin"].equity == Decimal("8050")
    assert state.markets["earn"].equity == Decimal("520")  # 100 BGB x 1.2 + 400 USDT
    assert state.total_equity == Decimal("38619.9")
    assert state.unpriced_assets == {"XYZ": "3"}
    # USDT 1,000 + 2,000 + 100 + 450 + 250 + 400; USDC 499.9
    assert state.cash == Decimal("4699.9")
    # -20 USDT + 10 USDC x 0.9998 + 0.0002 BTC x 50,000
    assert state.unrealized_pnl == Decimal("-0.002")
    # 100 USDT + 50 USDC x 0.9998 (off-chain from another bitget user); the pending 777 and the 999 of 05-04 not
    assert state.deposits == Decimal("149.99")
    # size is what left: 30 USDT + 0.01 BTC x 50,000; the failed 70 not
    assert state.withdrawals == Decimal("530")
    spot = state.markets["spot"]
    # one fill in the window: 0.02 BTC x 50,000 = 1,000; fee 0.00002 BTC = 1
    assert (spot.trades, spot.volume, spot.fees) == (1, Decimal("1000"), Decimal("1"))
    swap = state.markets["swap"]
    # USDT-M 0.02 BTC x 50,000 = 1,000, fee 0.6 USDT; USDC-M 0.01 BTC x 50,000 USDC x 0.9998 = 499.9, fee
    # 0.3 USDC = 0.29994; the fill of 05-04 not
    assert (swap.trades, swap.volume, swap.fees) == (2, Decimal("1499.9"), Decimal("0.89994"))
    # funding: -1.5 USDT + 0.5 USDC x 0.9998 - 0.00001 BTC x 50,000 (05-04's and a trade bill not)
    assert state.markets["swap"].funding == Decimal("-1.5001")
    calls = venue.paths()
    # every wallet once; positions per product (COIN-M per margin coin held); history once per kind
    for path, count in {"/api/v2/spot/account/assets": 1, "/api/v2/mix/account/accounts": 3,
                        "/api/v2/margin/crossed/account/assets": 1, "/api/v2/margin/isolated/account/assets": 1,
                        "/api/v2/account/funding-assets": 1, "/api/v2/earn/account/assets": 1,
                        "/api/v2/mix/position/all-position": 3, "/api/v2/spot/wallet/deposit-records": 1,
                        "/api/v2/spot/wallet/withdrawal-records": 1, "/api/v2/spot/market/tickers": 1,
                        "/api/v2/spot/public/symbols": 1, "/api/v2/mix/market/contracts": 6,
                        "/api/v2/margin/currencies": 1, "/api/v2/mix/account/bill": 3}.items():
        assert calls.count(path) == count, path
    # spot fills per held/moved coin's market: BTC/USDT, ETH/USDT, USDC/USDT, BGB/USDT, LTC/BTC;
    # futures fills per position symbol of USDT-M and USDC-M
    assert calls.count("/api/v2/spot/trade/fills") == 5
    assert calls.count("/api/v2/mix/order/fills") == 2
    assert "/api/v2/spot/account/info" not in calls


@pytest.mark.parametrize(("authorities", "expected"), [
    (["coor", "cpor", "stor", "smor", "wtor"], {Permission.READ}),
    (["stor", "stow", "coow"], {Permission.READ, Permission.TRADE}),
    (["stor", "wwow"], {Permission.READ, Permission.WITHDRAW}),
    (["trade", "readonly"], {Permission.READ, Permission.TRADE}),
])
async def test_bitget_permissions_from_account_info(authorities: list[str], expected: set[Permission]) -> None:
    assert await permissions_asked("bitget", full(authorities)) == (expected, ["/api/v2/spot/account/info"])


async def test_bitget_wrong_passphrase_is_auth_error_without_secrets() -> None:
    await refused_without_secrets("bitget", full(), passphrase="not-the-passphrase")


async def test_bitget_as_plain_ccxt_reads_it() -> None:
    """ccxt smoke: plain ccxt's parse of the fake equals the scenario; where it differs from bitget's
    documented meaning the test pins it (why bitget.py reads those endpoints itself)."""
    sc = full()
    with fake_venue("bitget", sc) as venue:
        ex = plain("bitget", venue.base_url, sc)
        try:
            spot = await ex.fetch_balance({"type": "spot"})
            usdt_m = await ex.fetch_balance({"type": "swap", "productType": "USDT-FUTURES"})
            coin_m = await ex.fetch_balance({"type": "swap", "productType": "COIN-FUTURES"})
            cross = await ex.fetch_balance({"type": "margin", "marginMode": "cross"})
            isolated = await ex.fetch_balance({"type": "margin", "marginMode": "isolated"})
            default_positions = await ex.fetch_positions(None, {"type": "swap"})
            coin_positions = await ex.fetch_positions(None, {"productType": "COIN-FUTURES", "marginCoin": "BTC"})
            since, until = IN_WINDOW_MS - 3_600_000, IN_WINDOW_MS + 3_600_000
            deposits = await ex.fetch_deposits(None, since, None, {"until": until})
            withdrawals = await ex.fetch_withdrawals(None, since, None, {"until": until})
        finally:
            await ex.close()
    assert (spot["total"]["BTC"], spot["total"]["USDT"], spot["total"]["LTC"]) == (0.5, 1000, 10)
    assert usdt_m["total"]["USDT"] == 2000 and coin_m["total"]["BTC"] == 0.01
    assert (cross["total"]["BTC"], cross["debt"]["BTC"]) == (0.1, 0.02)
    # isolated margin: one row per coin per pair; ccxt keeps the last USDT row only (300, not 150 + 300)
    assert (isolated["total"]["USDT"], isolated["debt"]["USDT"]) == (300, 0)
    # without a productType ccxt asks USDT-M only: the USDC-M and COIN-M positions are never read
    assert [(p["symbol"], p["unrealizedPnl"]) for p in default_positions] == [("BTC/USDT:USDT", -20)]
    assert [(p["symbol"], p["unrealizedPnl"]) for p in coin_positions] == [("BTC/USD:BTC", 0.0002)]
    assert sorted((t["currency"], t["amount"], t["status"]) for t in deposits) == [
        ("USDC", 50, "ok"), ("USDT", 100, "ok"), ("USDT", 777, "pending")]
    # bitget's type "withdraw" is passed through: a filter on "withdrawal" dropped every bitget withdrawal
    assert sorted((t["type"], t["currency"], t["amount"], t["fee"]["cost"], t["status"]) for t in withdrawals) == [
        ("withdraw", "BTC", 0.0095, 0.0005, "ok"), ("withdraw", "USDT", 28.5, 1.5, "ok"),
        ("withdraw", "USDT", 69, 1, "fail")]


async def test_more_deposits_than_one_page_are_read_whole() -> None:
    """bitget serves at most 100 records a request and pages with idLessThan; ccxt's paginator stopped
    after the first page. 250 deposits, 130 withdrawals and 150 funding bills of one day are all counted."""
    deposits = [deposit(str(10_000 + n), "USDT", "1", IN_WINDOW_MS - n * 1000) for n in range(250)]
    withdrawals = [withdrawal(str(20_000 + n), "USDT", "2", "-0.5", IN_WINDOW_MS - n * 1000) for n in range(130)]
    bills = [bill(str(30_000 + n), "USDT-FUTURES", "BTCUSDT", "USDT", "-0.1", IN_WINDOW_MS - n * 1000)
             for n in range(150)]
    sc = scenario({"USDT": "10"}, PRICES, deposits=deposits, withdrawals=withdrawals, bills=bills)
    with fake_venue("bitget", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    assert state.deposits == Decimal("250")
    assert state.withdrawals == Decimal("260")  # 130 x size 2
    assert venue.paths().count("/api/v2/spot/wallet/deposit-records") == 3
    assert venue.paths().count("/api/v2/spot/wallet/withdrawal-records") == 2
    assert state.markets["swap"].funding == Decimal("-15")
    assert venue.paths().count("/api/v2/mix/account/bill") == 4  # USDT-M twice, USDC-M and COIN-M once


async def test_more_fills_than_one_page_are_read_whole() -> None:
    """Spot and futures fills: 100 a request, paged by idLessThan; ccxt's paginator found no cursor in the
    rows and stopped after the first page (100 of 130 fills)."""
    fills = [_fill("BTCUSDT", str(5000 + n), IN_WINDOW_MS - n * 1000) for n in range(130)]
    contract = [futures_fill(str(8000 + n), "USDT-FUTURES", "BTCUSDT", "50000", "0.001", "0", "USDT",
                             IN_WINDOW_MS - n * 1000) for n in range(130)]
    sc = scenario({"BTC": "1"}, PRICES, spot_fills=fills, futures_fills=contract,
                  positions={"USDT-FUTURES": [position("BTCUSDT", "USDT", "long", "0.1", "0", "USDT-FUTURES")]})
    with fake_venue("bitget", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
        ex = plain("bitget", venue.base_url, sc)
        try:
            paging = {"until": WINDOW.end_ms - 1, "paginate": True, "maxEntriesPerRequest": 100}
            ccxt_paged = await ex.fetch_my_trades("BTC/USDT", WINDOW.start_ms, None, paging)
            ccxt_contract = await ex.fetch_my_trades("BTC/USDT:USDT", WINDOW.start_ms, None, dict(paging))
        finally:
            await ex.close()
    assert venue.unknown == []
    assert (state.markets["spot"].trades, state.markets["spot"].volume) == (130, Decimal("130000"))
    assert state.markets["swap"].trades == 130
    assert len(ccxt_paged) == len(ccxt_contract) == 100


async def test_a_deposit_completed_one_and_three_days_late_counts_once() -> None:
    """The pattern of tests/connectors/test_ccxt_late_flows.py for bitget: pending at one snapshot,
    completed ("success") one and three days later; each counted once, in the window that first sees it."""
    old = deposit("3001", "USDT", "700", OUT_OF_WINDOW_MS)
    one_day = deposit("3002", "USDT", "10", IN_WINDOW_MS, status="pending")
    three_days = deposit("3003", "USDT", "30", IN_WINDOW_MS, status="pending")
    sc = scenario({"USDT": "10"}, PRICES, deposits=[old, one_day, three_days])
    counted = await deposits_counted_daily("bitget", sc, {2: lambda: one_day.update(status="success"),
                                                          4: lambda: three_days.update(status="success")})
    assert counted == [0, 0, 10, 0, 30, 0]
