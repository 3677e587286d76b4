"""bybit (unified trading account + funding account) through real ccxt against the local fake.

Prices: BTC/USDT 50,000; LTC/USDT 80; USDC/USDT 0.9999. bybit lists no USD market: USDT is 1.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

import pytest

from app.connectors.base import ConnectorError, Permission
from tests.connectors.checks import refused_without_secrets
from tests.fakes.ccxt_venues import (
    IN_WINDOW_MS,
    OUT_OF_WINDOW_MS,
    WINDOW,
    Scenario,
    bybit_scenario,
    fake_venue,
    fixture,
    venue_connector,
)

PRICES = {"BTC/USDT": "50000", "LTC/USDT": "80", "USDC/USDT": "0.9999"}


def _executions() -> list[dict[str, Any]]:
    spot = fixture("bybit", "fetchMyTrades", 0)["result"]["list"][0]  # BTCUSDT buy 0.000336 @ 29,708.7
    spot.update(category="spot", execTime=str(IN_WINDOW_MS))
    old = {**spot, "execId": "old", "execTime": str(OUT_OF_WINDOW_MS)}
    funding = fixture("bybit", "fetchFundingHistory")["result"]["list"]  # LTCUSDT funding rows
    funding = [{**row, "category": "linear", "execTime": str(IN_WINDOW_MS + i)} for i, row in enumerate(funding)]
    linear = {**funding[0], "execType": "Trade", "execId": "lin-1", "execPrice": "80", "execQty": "2",
              "execValue": "160", "execFee": "0.096", "feeRate": "0.0006", "category": "linear"}
    return [spot, old, linear, *funding]


def scenario(**overrides: Any) -> Scenario:
    deposit = {"coin": "USDT", "chain": "TRX", "amount": "100", "txID": "0xdep", "status": 3, "toAddress": "T1",
               "tag": "", "depositFee": "", "successAt": str(IN_WINDOW_MS), "confirmations": "20",
               "txIndex": "0", "blockHash": "", "batchReleaseLimit": "-1", "depositType": "0", "id": "d1"}
    withdrawal = {"coin": "USDT", "chain": "TRX", "amount": "50", "txID": "0xwd", "status": "success",
                  "toAddress": "T2", "tag": "", "withdrawFee": "1", "createTime": str(IN_WINDOW_MS),
                  "updateTime": str(IN_WINDOW_MS), "withdrawId": "w1", "withdrawType": 0}
    # off-chain withdrawal to another bybit account: capital leaves this account, so it is a flow
    off_chain = {**withdrawal, "txID": "", "withdrawId": "w2", "amount": "500", "withdrawFee": "0", "withdrawType": 1}
    return bybit_scenario({"BTC": "0.5", "USDT": "1000", "LTC": "-0.5"}, PRICES, funding={"USDC": "100"},
                          executions=_executions(), deposits=[deposit], withdrawals=[withdrawal, off_chain],
                          **overrides)


connector = partial(venue_connector, "bybit")


async def test_bybit_state() -> None:
    sc = scenario()
    with fake_venue("bybit", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    # unified `equity`: 0.5 BTC x 50,000 = 25,000; 1,000 USDT; -0.5 LTC (borrowed) x 80 = -40
    # funding wallet: 100 USDC x 0.9999 = 99.99
    assert state.total_equity == Decimal("26059.99")  # 25,000 + 1,000 - 40 + 99.99
    assert state.deposits == Decimal("100")  # 100 USDT
    assert state.withdrawals == Decimal("551")  # 50 + 1 fee on-chain + 500 off-chain to another account
    spot, swap = state.markets["spot"], state.markets["swap"]
    # spot: 0.000336 BTC x 29,708.7 = 9.9821232 USDT; fee 0.000000336 BTC x 50,000 = 0.0168
    assert (spot.trades, spot.volume, spot.fees) == (1, Decimal("9.9821232"), Decimal("0.0168"))
    # linear LTCUSDT: 2 x contractSize 1 x 80 = 160; fee 0.096 USDT
    assert (swap.trades, swap.volume, swap.fees) == (1, Decimal("160"), Decimal("0.096"))
    # funding rows (fixture): execFee -0.00708126 (received) and 0.0007797 (paid), USDT
    assert swap.funding == Decimal("0.00708126") - Decimal("0.0007797")


async def test_bybit_permissions_withdraw_and_trade() -> None:
    sc = scenario(read_only=0, api_permissions={"ContractTrade": ["Order", "Position"], "Spot": ["SpotTrade"],
                                                "Wallet": ["AccountTransfer", "Withdraw"], "Options": []})
    with fake_venue("bybit", sc) as venue:
        perms = await connector(venue.base_url, sc).permissions()
    assert perms == {Permission.READ, Permission.TRADE, Permission.WITHDRAW}


async def test_bybit_read_only_key() -> None:
    sc = scenario()
    with fake_venue("bybit", sc) as venue:
        assert await connector(venue.base_url, sc).permissions() == {Permission.READ}


async def test_bybit_wrong_secret() -> None:
    await refused_without_secrets("bybit", scenario(), secret="wrong-secret-zzzzzz",
                                  call=lambda c: c.fetch_account_state(WINDOW))


async def test_earn_positions_are_counted_and_a_key_without_earn_permission_still_syncs() -> None:
    """bybit Earn (Flexible Saving, On-chain) is a wallet of its own: 300 USDT + 0.01 BTC staked were
    neither counted nor listed. A key without the Earn permission (bybit: 10005) still syncs without it."""
    sc = bybit_scenario({"USDT": "10"}, PRICES, earn={"FlexibleSaving": {"USDT": "300"}, "OnChain": {"BTC": "0.01"}})
    with fake_venue("bybit", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
        assert state.markets["earn"].equity == Decimal("800")  # 300 + 0.01 x 50,000
        assert state.total_equity == Decimal("810")
        sc.responses["/v5/earn/position"] = {"retCode": 10005, "retMsg": "Permission denied.", "result": {},
                                             "retExtInfo": {}, "time": 1714953599000}
        without = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert without.total_equity == Decimal("10") and "earn" not in without.markets


def _position(symbol: str, side: str, size: str, pnl: str) -> dict[str, Any]:
    """GET /v5/position/list row (fixture format); `unrealisedPnl` is in the settle coin."""
    row = fixture("bybit", "fetchPositions")["result"]["list"][0]
    row.update(symbol=symbol, side=side, size=size, unrealisedPnl=pnl, positionValue="0", avgPrice="0")
    return row


async def test_linear_usdt_usdc_and_inverse_positions_each_count_once_in_unrealized_pnl() -> None:
    """Only USDT-settled linear positions were read: inverse positions (PnL in BTC) and USDC perpetuals were
    missing from `unrealized_pnl` (their PnL is already in the unified `equity`, so equity is unchanged).
    LTCUSDT +7.8 USDT; BTCPERP -20 USDC x 0.9999 = -19.998; BTCUSD +0.002 BTC x 50,000 = +100."""
    positions = {"linear": [_position("LTCUSDT", "Buy", "1.2", "7.8"), _position("BTCPERP", "Sell", "0.1", "-20")],
                 "inverse": [_position("BTCUSD", "Buy", "1000", "0.002")]}
    sc = bybit_scenario({"USDT": "1000"}, PRICES, positions=positions)
    with fake_venue("bybit", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    assert state.unrealized_pnl == Decimal("87.802")  # 7.8 - 19.998 + 100
    assert state.total_equity == Decimal("1000")  # unified equity already holds the PnL: not added again
    assert venue.paths().count("/v5/position/list") == 3  # linear USDT, linear USDC, inverse: once each


async def test_history_longer_than_one_page_is_read_whole_within_bybit_limits() -> None:
    """bybit serves at most 50 deposit or withdrawal records and 100 executions a request and pages with
    `cursor` = the previous `nextPageCursor` (the fake refuses larger limits, as bybit does): 120 deposits
    of 1 USDT, 75 withdrawals of 2 USDT (+0.1 fee) and 230 funding executions of 0.01 USDT in one day
    are all counted."""
    deposit = {"coin": "USDT", "chain": "TRX", "amount": "1", "status": 3, "toAddress": "T1", "tag": "",
               "depositFee": "", "confirmations": "20", "txIndex": "0", "blockHash": "", "batchReleaseLimit": "-1",
               "depositType": "0"}
    deposits = [{**deposit, "id": f"d{n}", "txID": f"0xd{n}", "successAt": str(IN_WINDOW_MS - n * 1000)}
                for n in range(120)]
    withdrawal = {"coin": "USDT", "chain": "TRX", "amount": "2", "status": "success", "toAddress": "T2", "tag": "",
                  "withdrawFee": "0.1", "withdrawType": 0}
    withdrawals = [{**withdrawal, "withdrawId": f"w{n}", "txID": f"0xw{n}", "createTime": str(IN_WINDOW_MS - n),
                    "updateTime": str(IN_WINDOW_MS - n)} for n in range(75)]
    funding = fixture("bybit", "fetchFundingHistory")["result"]["list"][0]
    executions = [{**funding, "category": "linear", "execId": f"f{n}", "execFee": "-0.01",
                   "execTime": str(IN_WINDOW_MS - n * 1000)} for n in range(230)]
    sc = bybit_scenario({"USDT": "10"}, PRICES, deposits=deposits, withdrawals=withdrawals, executions=executions)
    with fake_venue("bybit", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    assert state.deposits == Decimal("120")
    assert state.withdrawals == Decimal("157.5")  # 75 x 2.1
    assert state.markets["swap"].funding == Decimal("2.3")  # 230 x 0.01 received (bybit: negative = received)
    paths = venue.paths()
    assert paths.count("/v5/asset/deposit/query-record") == 3  # 50 + 50 + 20
    assert paths.count("/v5/asset/withdraw/query-record") == 2  # 50 + 25
    # funding: ccxt sends its page size as `size`, which bybit ignores: 50 a page (5 pages) + inverse (1)
    assert paths.count("/v5/execution/list") == 6 + 4  # + trades: spot, linear, inverse, option (1 each)
    # funding: ccxt sends its page size as `size`, which bybit ignores: 50 a page (5 pages) + inverse (1)
    assert paths.count("/v5/execution/list") == 6 + 4  # + trades: spot, linear, inverse, option (1 each)


async def test_a_day_longer_than_ccxts_pagination_cap_is_read_whole() -> None:
    """ccxt's paginator stops after `paginationCalls` requests (zka asks 20) and returns what it has without a
    word: 20 pages of 100 executions = 2,000 of a day's 2,500 spot fills were counted. A walk that used every
    call is read again in halves, so all 2,500 count."""
    fill = fixture("bybit", "fetchMyTrades", 0)["result"]["list"][0]  # BTCUSDT buy 0.000336 @ 29,708.7
    day = IN_WINDOW_MS - 12 * 3_600_000  # 2024-05-05 00:00
    executions = [{**fill, "category": "spot", "execId": f"e{n}", "execTime": str(day + n * 30_000)}
                  for n in range(2500)]  # one every 30 s from 00:00: 20 h 50 min
    sc = bybit_scenario({"USDT": "10"}, PRICES, executions=executions)
    with fake_venue("bybit", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    assert state.markets["spot"].trades == 2500
    assert state.markets["spot"].volume == Decimal("9.9821232") * 2500
    # the whole day (20 requests, cut), then 00:00-12:00 (1,440 rows: 15 pages) and 12:00-24:00 (1,060: 11);
    # + linear, inverse and option trades and linear and inverse funding (one each)
    spot_calls = venue.paths().count("/v5/execution/list") - 5
    assert spot_calls == 20 + 15 + 11


async def test_a_minute_longer_than_the_cap_fails_the_fetch_rather_than_count_part_of_it() -> None:
    fill = fixture("bybit", "fetchMyTrades", 0)["result"]["list"][0]
    executions = [{**fill, "category": "spot", "execId": f"e{n}", "execTime": str(IN_WINDOW_MS + n % 1000)}
                  for n in range(2100)]  # 2,100 fills within one second: more than 20 pages of 100
    sc = bybit_scenario({"USDT": "10"}, PRICES, executions=executions)
    with fake_venue("bybit", sc) as venue, pytest.raises(ConnectorError) as info:
        await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert "more than 20 pages of history" in str(info.value)


async def test_internal_deposits_from_other_bybit_users_are_flows() -> None:
    """ccxt reads on-chain deposits only (query-record): 60 USDT and 0.01 BTC received off-chain from other
    bybit users (by email/UID, e.g. a P2P seller releasing bought coins) were profit. Internal deposit
    records (query-internal-record, pages of 50) are flows; processing and failed ones do not count."""
    def internal(n: int, coin: str, amount: str, status: int) -> dict[str, Any]:
        return {"id": f"i{n}", "type": 1, "coin": coin, "amount": amount, "txID": f"77c37e5c-{n}",
                "status": status, "address": "xxxxx***@gmail.com", "createdTime": str(IN_WINDOW_MS // 1000 - n)}

    rows = [internal(n, "USDT", "1", 2) for n in range(60)]
    rows += [internal(60, "BTC", "0.01", 2), internal(61, "USDT", "500", 1), internal(62, "USDT", "700", 3)]
    rows.append({**internal(63, "USDT", "900", 2), "createdTime": str(OUT_OF_WINDOW_MS // 1000)})  # the day before
    sc = bybit_scenario({"USDT": "10"}, PRICES, internal_deposits=rows)
    with fake_venue("bybit", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    assert state.deposits == Decimal("560")  # 60 x 1 USDT + 0.01 BTC x 50,000
    assert venue.paths().count("/v5/asset/deposit/query-internal-record") == 2  # 50 + 11
