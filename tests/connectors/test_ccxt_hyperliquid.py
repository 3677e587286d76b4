"""hyperliquid (spot, perps, vaults, staking; ledger flows) through real ccxt against the local fake
(tests/fakes/venues/hyperliquid.py). The api_key is the account's public address; nothing is signed.

Prices (spot mids; perps where no spot pair): USDT0/USDC 1 (hyperliquid has no USD market, so USDT is the
pegged numeraire, pricing.py); PURR 0.2, HYPE 20, UBTC (BTC) 50,000 USDC; ETH 2,500 from its perp;
JEFF trades only against HYPE (0.5 HYPE = 10 USDC).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from app.connectors.base import AuthError, FlowMemory, Permission
from tests.fakes.ccxt_venues import (
    IN_WINDOW_MS,
    OUT_OF_WINDOW_MS,
    WINDOW,
    Scenario,
    deposits_counted_daily,
    fake_venue,
    venue_connector,
)
from tests.fakes.venues.hyperliquid import ADDRESS, OTHER, perp_position, scenario

SPOT = {"USDC": "1000", "HYPE": "50", "UBTC": "0.1", "PURR": "500", "JEFF": "20", "USDT0": "300"}
POSITIONS = [perp_position("BTC", "0.1", "150"), perp_position("ETH", "-1", "-50")]


def ledger(n: int, ms: int, **delta: Any) -> dict[str, Any]:
    return {"time": ms, "hash": f"0x{n:064x}", "delta": delta}


LEDGER = [
    ledger(1, IN_WINDOW_MS, type="deposit", usdc="2000.0"),
    ledger(2, IN_WINDOW_MS, type="withdraw", usdc="501.0", nonce=1, fee="1.0"),
    ledger(3, IN_WINDOW_MS, type="internalTransfer", usdc="300.0", user=OTHER, destination=ADDRESS, fee="1.0"),
    ledger(4, IN_WINDOW_MS, type="internalTransfer", usdc="200.0", user=ADDRESS, destination=OTHER, fee="1.0"),
    ledger(5, IN_WINDOW_MS, type="spotTransfer", token="HYPE", amount="5.0", usdcValue="100.0", user=ADDRESS,
           destination=OTHER, fee="1.0", nativeTokenFee="0.0", nonce=2),  # fee in USDC
    ledger(6, IN_WINDOW_MS, type="spotTransfer", token="UBTC", amount="0.01", usdcValue="500.0", user=OTHER,
           destination=ADDRESS, fee="0.0", nativeTokenFee="0.0", nonce=3),
    ledger(7, IN_WINDOW_MS, type="subAccountTransfer", usdc="1000.0", user=ADDRESS, destination=OTHER),
    ledger(8, IN_WINDOW_MS, type="accountClassTransfer", usdc="700.0", toPerp=True),
    ledger(9, IN_WINDOW_MS, type="vaultDeposit", vault=OTHER, usdc="400.0"),
    ledger(10, IN_WINDOW_MS, type="cStakingTransfer", token="HYPE", amount="10.0", isDeposit=True),
    ledger(11, IN_WINDOW_MS, type="send", user=ADDRESS, destination=ADDRESS, sourceDex="", destinationDex="xyz",
           token="USDC", amount="50.0", usdcValue="50.0", fee="0.0", nativeTokenFee="0.0", nonce=4),
    ledger(12, IN_WINDOW_MS, type="rewardsClaim", amount="3.0"),
    ledger(13, OUT_OF_WINDOW_MS, type="deposit", usdc="9999.0"),
]
FUNDING = [
    {"time": IN_WINDOW_MS, "hash": "0x" + "0" * 64, "delta": {"type": "funding", "coin": "BTC", "usdc": "-1.5",
                                                             "szi": "0.1", "fundingRate": "0.0001", "nSamples": None}},
    {"time": IN_WINDOW_MS, "hash": "0x" + "0" * 64, "delta": {"type": "funding", "coin": "ETH", "usdc": "0.5",
                                                             "szi": "-1", "fundingRate": "0.0001", "nSamples": None}},
]


def fill(tid: int, coin: str, px: str, sz: str, fee: str, token: str, ms: int, **extra: Any) -> dict[str, Any]:
    return {"closedPnl": "0.0", "coin": coin, "crossed": True, "dir": "Buy", "hash": f"0x{tid:064x}", "oid": tid,
            "px": px, "side": "B", "startPosition": "0", "sz": sz, "time": ms, "fee": fee, "feeToken": token,
            "tid": tid, **extra}


FILLS = [
    fill(1, "BTC", "50000", "0.1", "2.5", "USDC", IN_WINDOW_MS),  # perp: 5,000; fee 2.5
    fill(2, "@1", "20", "10", "0.01", "HYPE", IN_WINDOW_MS),  # HYPE/USDC: 200; fee 0.01 HYPE = 0.2
    fill(3, "@2", "50000", "0.01", "0.00001", "UBTC", IN_WINDOW_MS),  # BTC/USDC: 500; fee 0.00001 BTC = 0.5
    fill(4, "@4", "0.5", "100", "0.1", "USDC", IN_WINDOW_MS, builderFee="0.05"),  # JEFF/HYPE: 50 HYPE = 1,000
    fill(5, "BTC", "50000", "9", "100", "USDC", OUT_OF_WINDOW_MS),  # 05-04: outside
]


def full(mode: str = "disabled") -> Scenario:
    return scenario(SPOT, "10000", positions=POSITIONS, mode=mode, vaults=["2500", "500"],
                    staking=("100", "10", "5"), ledger=LEDGER, funding=FUNDING, fills=FILLS)


def connector(base_url: str, sc: Scenario, memory: FlowMemory | None = None, address: str | None = None) -> Any:
    return venue_connector("hyperliquid", base_url, sc, api_key=address, memory=memory)


async def test_hyperliquid_state_per_field() -> None:
    sc = full()
    with fake_venue("hyperliquid", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    # spot: 1,000 USDC + 50 HYPE x 20 + 0.1 BTC x 50,000 + 500 PURR x 0.2 + 20 JEFF x 10 + 300 USDT = 7,600
    assert state.markets["spot"].equity == Decimal("7600")
    assert state.markets["swap"].equity == Decimal("10000")  # perp accountValue (incl. unrealized PnL)
    assert state.markets["earn"].equity == Decimal("5300")  # vaults 3,000 USDC + 115 staked HYPE x 20
    assert state.total_equity == Decimal("22900")
    assert state.unpriced_assets == {}
    assert state.cash == Decimal("14300")  # USDC 1,000 + USDT 300 + perp 10,000 + vaults 3,000
    assert state.unrealized_pnl == Decimal("100")  # 150 - 50, already in accountValue
    # in: 2,000 bridge deposit + 300 from another user + 0.01 BTC from another user (500)
    assert state.deposits == Decimal("2800")
    # out: 501 withdrawn (1 of it the bridge fee) + (200 + 1 fee) to another user + 5 HYPE (100) and its
    # 1 USDC fee to another user + 1,000 to a subaccount; spot<->perp, vault, staking, own-dex sends and
    # rewards are no flows
    assert state.withdrawals == Decimal("1803")
    swap, spot = state.markets["swap"], state.markets["spot"]
    assert (swap.trades, swap.volume, swap.fees, swap.funding) == (1, Decimal("5000"), Decimal("2.5"), Decimal("-1"))
    # 200 + 500 + 1,000; fees 0.2 + 0.5 + (0.1 + 0.05 builder fee)
    assert (spot.trades, spot.volume, spot.fees) == (3, Decimal("1700"), Decimal("0.85"))
    assert Counter(sc.responses["_log"]) == {
        "spotMetaAndAssetCtxs": 1, "metaAndAssetCtxs": 1, "spotClearinghouseState": 1, "clearinghouseState": 1,
        "userAbstraction": 1, "userVaultEquities": 1, "delegatorSummary": 1, "userNonFundingLedgerUpdates": 1,
        "userFunding": 1, "userFillsByTime": 1}


async def test_a_unified_account_is_read_once() -> None:
    """With the unified account every balance is in the spot state and the perp state holds no collateral:
    spot + the positions' PnL. ccxt read spot again for the perp wallet (counted twice)."""
    sc = full(mode="unifiedAccount")
    with fake_venue("hyperliquid", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    assert state.markets["swap"].equity == Decimal("100")
    assert state.total_equity == Decimal("13000")  # 7,600 + 100 + 5,300


async def test_hyperliquid_as_plain_ccxt_reads_it() -> None:
    """ccxt 4.5.64 alone: balances and positions are the scenario's, but its deposits and withdrawals carry no
    type, currency or status (zka's filter dropped them all), only `deposit`/`withdraw` rows are kept, the
    withdrawal fee is an integer, and on a unified account both wallets read the spot state."""
    import ccxt.async_support as ccxt_async  # noqa: PLC0415

    from app.connectors.ccxt.client import rewrite_urls  # noqa: PLC0415

    sc = full()
    with fake_venue("hyperliquid", sc) as venue:
        ex = ccxt_async.hyperliquid({"walletAddress": ADDRESS, "enableRateLimit": False,
                                     "options": {"fetchMarkets": {"types": ["spot", "swap"]}}})
        ex.has["fetchCurrencies"] = False
        ex.urls["api"] = rewrite_urls(ex.urls["api"], venue.base_url)
        ex.timeout_on_exit = 0
        try:
            spot = await ex.fetch_balance({"type": "spot"})
            perp = await ex.fetch_balance({"type": "swap"})
            positions = await ex.fetch_positions()
            deposits = await ex.fetch_deposits(None, OUT_OF_WINDOW_MS - 1)
            withdrawals = await ex.fetch_withdrawals(None, OUT_OF_WINDOW_MS - 1)
            sc.responses["info:userAbstraction"] = "unifiedAccount"
            ex.options.pop("enableUnifiedMargin", None)
            unified_perp = await ex.fetch_balance({"type": "swap"})
        finally:
            await ex.close()
    assert {c: spot["total"][c] for c in ("USDC", "HYPE", "BTC", "PURR", "JEFF", "USDT")} == {
        "USDC": 1000, "HYPE": 50, "BTC": 0.1, "PURR": 500, "JEFF": 20, "USDT": 300}
    assert perp["total"] == {"USDC": 10000}
    assert sorted((p["symbol"], p["unrealizedPnl"]) for p in positions) == [
        ("BTC/USDC:USDC", 150.0), ("ETH/USDC:USDC", -50.0)]
    assert [(t["type"], t["currency"], t["status"], t["amount"]) for t in deposits] == [
        (None, None, None, 9999.0), (None, None, None, 2000.0)]
    assert [(t["type"], t["amount"], t["fee"]) for t in withdrawals] == [(None, 501.0, {"currency": "USDC", "cost": 1})]
    assert unified_perp["total"]["USDC"] == 1000  # the spot state again


async def test_permissions_are_read_only_and_a_non_address_is_refused() -> None:
    sc = full()
    with fake_venue("hyperliquid", sc) as venue:
        assert await connector(venue.base_url, sc).permissions() == {Permission.READ}
        with pytest.raises(AuthError):
            await connector(venue.base_url, sc, address="not-an-address").check_credentials()


async def test_more_rows_than_one_page_are_all_read() -> None:
    """1,200 deposits (500 a page) and 2,500 fills (2,000 a page) in the window are all read."""
    rows = [ledger(100 + n, IN_WINDOW_MS + n // 3, type="deposit", usdc="1.0") for n in range(1200)]
    fills = [fill(100 + n, "BTC", "50000", "0.001", "0", "USDC", IN_WINDOW_MS + n // 3) for n in range(2500)]
    sc = scenario({"USDC": "1"}, "0", ledger=rows, fills=fills)
    with fake_venue("hyperliquid", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert state.deposits == Decimal("1200")
    assert (state.markets["swap"].trades, state.markets["swap"].volume) == (2500, Decimal("125000"))
    assert Counter(sc.responses["_log"])["userNonFundingLedgerUpdates"] == 3
    assert Counter(sc.responses["_log"])["userFillsByTime"] == 2


async def test_a_deposit_listed_one_and_three_days_late_counts_once() -> None:
    """hyperliquid lists a ledger row once it is final; a bridge deposit dated 05-05 12:00 that shows up in the
    ledger only on 05-06 (or 05-08) counts once, in the first fetch that sees it. Connect at 05-05 00:00
    with an older deposit in the opening balance (recorded, never counted)."""
    rows = [ledger(1, OUT_OF_WINDOW_MS, type="deposit", usdc="700.0")]
    sc = scenario({"USDC": "10"}, "0", ledger=rows)
    seen = await deposits_counted_daily("hyperliquid", sc, {
        2: lambda: rows.append(ledger(2, IN_WINDOW_MS, type="deposit", usdc="10.0")),
        4: lambda: rows.append(ledger(3, IN_WINDOW_MS, type="deposit", usdc="30.0"))})
    assert seen == [0, 0, 10, 0, 30, 0]
