"""bingx (spot, fund account, USDT-margined and coin-margined perpetuals) through real ccxt against the
local fake (tests/fakes/venues/bingx.py), and what plain ccxt 4.5.64 reads from the same fake.

Prices: BTC/USDT 50,000; ETH/USDT 3,000; VST/BTC 0.00001 (VST trades only against BTC: 0.5 USDT).
bingx lists no USD market, so USDT (its numeraire) is 1.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import pytest

from app.connectors.base import AuthError, ConnectorOptions, Credentials, Permission
from app.connectors.ccxt_venue import create
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
from tests.fakes.venues.bingx import account, deposit, scenario, withdrawal

PRICES = {"BTC/USDT": "50000", "ETH/USDT": "3000", "VST/BTC": "0.00001"}
DAY_MS = 86_400_000


def _position(symbol: str, upl: str) -> dict[str, Any]:
    return {"symbol": symbol, "positionId": f"p-{symbol}", "positionSide": "LONG", "isolated": False,
            "positionAmt": "1", "availableAmt": "1", "unrealizedProfit": upl, "realisedProfit": "0",
            "initialMargin": "100", "margin": "100", "avgPrice": "50000", "liquidationPrice": "1",
            "leverage": 5, "positionValue": "500", "markPrice": "50000", "riskRate": "0.01",
            "maxMarginReduction": "0", "pnlRatio": "0", "updateTime": IN_WINDOW_MS}


def _spot_fill(n: int, ms: int) -> dict[str, Any]:
    return {"symbol": "BTC-USDT", "id": n, "orderId": 9000 + n, "price": "50000", "qty": "0.01", "quoteQty": "500",
            "commission": "-0.00001", "commissionAsset": "BTC", "time": ms, "isBuyer": True, "isMaker": False}


def _swap_fill(order: int, ms: int, volume: str = "100") -> dict[str, Any]:
    filled = datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"symbol": "BTC-USDT", "clientOrderID": "", "orderId": str(order), "price": "50000", "volume": volume,
            "amount": "500", "commission": "-0.25", "currency": "USDT", "filledTm": filled,
            "liquidatedPrice": "0", "liquidatedMarginRatio": "0"}


def _funding(n: int, amount: str, ms: int) -> dict[str, Any]:
    return {"symbol": "BTC-USDT", "incomeType": "FUNDING_FEE", "income": amount, "asset": "USDT", "info": "Funding Fee",
            "time": str(ms), "tranId": f"t{n}", "tradeId": f"f{n}"}


def full(permissions: list[int] | None = None) -> Scenario:
    return scenario(
        {"BTC": "0.5", "USDT": "1000", "VST": "100", "FOO": "7"}, PRICES,
        fund={"USDT": "200", "ETH": "1"},
        perp=[account("USDT", "1000", "-20", used="100", frozen="30")],
        coin_m=[account("BTC", "0.02", "0.0002", used="0.005")],
        positions=[_position("BTC-USDT", "-20")], coin_m_positions=[_position("BTC-USD", "0.0002")],
        deposits=[deposit("d1", "USDT", "100", 1, IN_WINDOW_MS),
                  deposit("d2", "USDT", "40", 6, IN_WINDOW_MS),  # chain uploaded: not completed yet
                  deposit("d3", "USDT", "999", 1, OUT_OF_WINDOW_MS),
                  deposit("d4", "USDT", "777", 0, IN_WINDOW_MS)],
        withdrawals=[withdrawal("w1", "USDT", "50", "1", 6, IN_WINDOW_MS),
                     withdrawal("w2", "USDT", "300", "1", 5, IN_WINDOW_MS),  # failed
                     withdrawal("w3", "USDT", "20", "1", 4, IN_WINDOW_MS)],  # under review
        income=[_funding(1, "-1.5", IN_WINDOW_MS), _funding(2, "-9", OUT_OF_WINDOW_MS)],
        fills=[_spot_fill(1, IN_WINDOW_MS), _spot_fill(2, OUT_OF_WINDOW_MS)],
        swap_fills=[_swap_fill(1, IN_WINDOW_MS), _swap_fill(2, IN_WINDOW_MS + 1000)],
        permissions=permissions)


connector = partial(venue_connector, "bingx")


async def test_bingx_state_every_wallet_position_flow_and_trade() -> None:
    sc = full()
    with fake_venue("bingx", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    m = state.markets
    # spot: 0.5 BTC = 25,000; 1,000 USDT; 100 VST x 0.00001 BTC x 50,000 = 50 (only through BTC)
    # fund: 200 USDT + 1 ETH = 3,200
    assert m["spot"].equity == Decimal("29250")
    # USDT-margined `equity` 980 (1,000 - 20 unrealized; ccxt's total was available + used margin = 950);
    # coin-margined 0.0202 BTC = 1,010
    assert m["swap"].equity == Decimal("1990")
    assert state.total_equity == Decimal("31240")
    assert state.unpriced_assets == {"FOO": "7"}
    assert state.cash == Decimal("2180")  # USDT: 1,000 spot + 200 fund + 980 perpetual
    assert state.unrealized_pnl == Decimal("-10")  # -20 USDT + 0.0002 BTC (10)
    assert state.deposits == Decimal("100")  # completed only: not "chain uploaded" (40), not in progress
    assert state.withdrawals == Decimal("51")  # 50 + 1 fee; failed and under review excluded
    assert m["swap"].funding == Decimal("-1.5")
    # spot: 0.01 BTC x 50,000 = 500, fee 0.00001 BTC = 0.5
    assert (m["spot"].trades, m["spot"].volume, m["spot"].fees) == (1, Decimal("500"), Decimal("0.5"))
    # perpetual: two fills without trade ids (bingx sends none), each 100 contracts x 0.0001 BTC x 50,000 = 500,
    # fee 0.25 USDT; they were one fill when de-duplicated by id
    assert (m["swap"].trades, m["swap"].volume, m["swap"].fees) == (2, Decimal("1000"), Decimal("0.5"))
    calls = Counter(path for _, path in venue.requests)
    # spot fills are asked per market of a held asset: BTC-USDT, ETH-USDT, VST-BTC; everything else once
    assert calls.pop("/openApi/spot/v1/trade/myTrades") == 3
    assert all(n == 1 for n in calls.values()), calls
    assert set(calls) == {
        "/openApi/swap/v2/quote/contracts", "/openApi/cswap/v1/market/contracts", "/openApi/spot/v1/common/symbols",
        "/openApi/spot/v1/ticker/24hr", "/openApi/spot/v1/account/balance", "/openApi/fund/v1/account/balance",
        "/openApi/swap/v3/user/balance", "/openApi/cswap/v1/user/balance", "/openApi/swap/v2/user/positions",
        "/openApi/cswap/v1/user/positions", "/openApi/swap/v2/user/income", "/openApi/api/v3/capital/deposit/hisrec",
        "/openApi/api/v3/capital/withdraw/history", "/openApi/swap/v2/trade/allFillOrders"}


@pytest.mark.parametrize(("codes", "expected"), [
    ([2], {Permission.READ}),
    ([1, 2, 3, 4], {Permission.READ, Permission.TRADE}),
    ([2, 5], {Permission.READ, Permission.WITHDRAW}),
])
async def test_bingx_permissions(codes: list[int], expected: set[Permission]) -> None:
    assert await permissions_asked("bingx", full(codes)) == (expected, ["/openApi/v1/account/apiPermissions"])


async def test_bingx_wrong_secret_is_an_auth_error_without_secrets() -> None:
    await refused_without_secrets("bingx", full(), secret="not-the-secret-0001")


async def test_bingx_wrong_key_is_an_auth_error_not_a_venue_failure() -> None:
    """bingx answers a wrong key with 100413 "Incorrect apiKey", which ccxt 4.5.64 maps to nothing (a
    generic venue error): the user was told the venue failed instead of that the key is wrong."""
    sc = full()
    with fake_venue("bingx", sc) as venue, pytest.raises(AuthError):
        await create("bingx", Credentials("not-the-key-00001", sc.api_secret),
                     ConnectorOptions(base_url=venue.base_url, cache={})).check_credentials()


async def test_more_flows_than_one_page_are_read_whole() -> None:
    """bingx answers at most 1,000 records a request (the fake refuses more); ccxt asked one page. 2,345
    deposits of one day are all counted."""
    rows = [deposit(f"d{n}", "USDT", "1", 1, IN_WINDOW_MS - n * 10) for n in range(2345)]
    sc = scenario({"USDT": "10"}, PRICES, deposits=rows)
    with fake_venue("bingx", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    assert state.deposits == Decimal("2345")
    assert venue.paths().count("/openApi/api/v3/capital/deposit/hisrec") == 3  # offsets 0, 1,000, 2,000


async def test_a_deposit_completed_one_and_three_days_late_counts_once() -> None:
    old = deposit("d-old", "USDT", "700", 1, OUT_OF_WINDOW_MS)  # in the opening balance
    one_day, three_days = deposit("d-1", "USDT", "10", 0, IN_WINDOW_MS), deposit("d-3", "USDT", "30", 6, IN_WINDOW_MS)
    sc = scenario({"USDT": "10"}, PRICES, deposits=[old, one_day, three_days])
    deposits = await deposits_counted_daily("bingx", sc, {2: lambda: one_day.update(status=1),
                                                          4: lambda: three_days.update(status=1)})
    assert deposits == [0, 0, 10, 0, 30, 0]


async def test_plain_ccxt_reads_the_fake_and_where_it_misreads_bingx() -> None:
    """What ccxt 4.5.64 parses from the fake with no zka code in between: the scenario's numbers where it
    reads bingx right, and pinned where it does not (why zka reads those rows itself)."""
    sc = full()
    with fake_venue("bingx", sc) as venue:
        ex = plain("bingx", venue.base_url, sc)
        try:
            spot = await ex.fetch_balance({"type": "spot"})
            fund = await ex.fetch_balance({"type": "funding"})
            perp = await ex.fetch_balance({"type": "swap"})
            coin_m = await ex.fetch_balance({"type": "swap", "subType": "inverse"})
            positions = await ex.fetch_positions(None, {"type": "swap"})
            inverse = await ex.fetch_positions(None, {"type": "swap", "subType": "inverse"})
            deposits = await ex.fetch_deposits(None, OUT_OF_WINDOW_MS)
            withdrawals = await ex.fetch_withdrawals(None, OUT_OF_WINDOW_MS)
            fills = await ex.fetch_my_trades("BTC/USDT:USDT", IN_WINDOW_MS - DAY_MS, None,
                                             {"until": IN_WINDOW_MS + DAY_MS})
        finally:
            await ex.close()
    assert (spot["total"]["BTC"], spot["total"]["USDT"], spot["total"]["VST"]) == (0.5, 1000, 100)
    assert (fund["total"]["USDT"], fund["total"]["ETH"]) == (200, 1)
    # ccxt's total is maxWithdrawAmount, which the v3 answer lacks: available + used margin, not equity (980)
    assert perp["total"]["USDT"] == 950
    assert coin_m["total"]["BTC"] == pytest.approx(0.0202)  # available + used: here equal to equity
    assert [(p["symbol"], p["unrealizedPnl"]) for p in positions] == [("BTC/USDT:USDT", -20)]
    assert [(p["symbol"], p["unrealizedPnl"]) for p in inverse] == [("BTC/USD:BTC", 0.0002)]
    # ccxt counts "chain uploaded" (6) as completed; deposit rows carry no id
    assert sorted((t["amount"], t["status"], t["id"]) for t in deposits) == [
        (40, "ok", None), (100, "ok", None), (777, "pending", None), (999, "ok", None)]
    assert sorted((t["type"], t["amount"], t["fee"]["cost"], t["status"]) for t in withdrawals) == [
        ("withdrawal", 20, 1, "pending"), ("withdrawal", 50, 1, "ok"), ("withdrawal", 300, 1, "rejected")]
    # perpetual fills carry no id
    assert [(t["id"], t["amount"], t["price"]) for t in fills] == [(None, 0.01, 50000), (None, 0.01, 50000)]
