"""binance (spot + funding + margin + earn + USDⓈ-M + COIN-M) through real ccxt against the local fake.

Window: 2024-05-05 UTC, the day of the shared fixture's deposit and withdrawal.
Prices: BTC/USDT 50,000; ETH/USDT 3,000; USDC/USDT 0.9999; BNB/BTC 0.01 (BNB = 0.01 x 50,000 = 500).
binance lists no USD market, so USDT (its numeraire) is 1 and USDC is 0.9999 from its ticker.
"""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from app.connectors.base import AuthError, ConnectorOptions, Credentials, DayWindow, Permission
from app.connectors.ccxt import connector as connector_module
from app.connectors.ccxt_venue import create
from tests.fakes.ccxt_venues import (
    HOUR_MS,
    IN_WINDOW_MS,
    OUT_OF_WINDOW_MS,
    WINDOW,
    Scenario,
    binance_scenario,
    fake_venue,
    fixture,
    measure_state_fetch,
    venue_connector,
)

PRICES = {"BTC/USDT": "50000", "ETH/USDT": "3000", "USDC/USDT": "0.9999", "BNB/BTC": "0.01"}
BALANCES = {
    "spot": {"BTC": "0.5", "USDT": "1000", "BNB": "2", "FOO": "7"},
    "funding": {"USDC": "200"},
    "margin": {"ETH": "1"},
    "usdm": {"USDT": "31.02261200"},  # margin balance from the fixture (incl. unrealized PnL)
    "coinm": {"BTC": "0.01"},
    "earn": {"USDC": "100"},
}


def _spot_trade(time_ms: int) -> dict[str, Any]:
    trade = fixture("binance", "fetchMyTrades", 0)[0]
    trade.update(symbol="BTCUSDT", price="50000.00000000", qty="0.10000000", quoteQty="5000.00000000",
                 commission="0.00500000", commissionAsset="BNB", time=str(time_ms), id=str(time_ms))
    return trade


def _usdm_trade() -> dict[str, Any]:
    trade = fixture("binance", "fetchMyTrades", 1)[0]  # BTCUSDT 0.010 @ 36567.10, fee 0.1462684 USDT
    trade["time"] = str(IN_WINDOW_MS)
    return trade


COINM_TRADE = {"symbol": "BTCUSD_PERP", "id": 11, "orderId": 12, "pair": "BTCUSD", "side": "BUY",
               "price": "50000", "qty": "3", "realizedPnl": "0", "marginAsset": "BTC", "baseQty": "0.006",
               "commission": "0.000006", "commissionAsset": "BTC", "time": IN_WINDOW_MS,
               "positionSide": "BOTH", "buyer": True, "maker": False}


def _income(symbol: str, kind: str, amount: str, asset: str) -> dict[str, Any]:
    return {"symbol": symbol, "incomeType": kind, "income": amount, "asset": asset, "info": kind,
            "time": IN_WINDOW_MS, "tranId": abs(hash((symbol, kind))) % 10**9, "tradeId": "1"}


def full_scenario(**overrides: Any) -> Scenario:
    deposit = fixture("binance", "fetchDeposits")[0]  # 10 USDT, 2024-05-05 15:41:44, status 1 (ok)
    old_deposit = {**deposit, "id": "old", "insertTime": str(OUT_OF_WINDOW_MS), "amount": "999"}
    # transferType 1: off-chain from another binance account -- capital enters, so it is a flow
    off_chain = {**deposit, "id": "internal", "txId": "Internal transfer 1", "transferType": "1", "amount": "555"}
    withdrawal = fixture("binance", "fetchWithdrawals")[0]  # 9 USDT + 1 fee, 2024-05-05, status 6 (ok)
    return binance_scenario(
        BALANCES, PRICES,
        trades={"spot": [_spot_trade(IN_WINDOW_MS), _spot_trade(OUT_OF_WINDOW_MS)],
                "usdm": [_usdm_trade()], "coinm": [COINM_TRADE]},
        deposits=[deposit, old_deposit, off_chain],
        withdrawals=[withdrawal],
        income={"usdm": [_income("BTCUSDT", "COMMISSION", "-0.1462684", "USDT"),
                         _income("BTCUSDT", "FUNDING_FEE", "-1.5", "USDT")],
                "coinm": [_income("BTCUSD_PERP", "COMMISSION", "-0.000006", "BTC")]},
        **overrides,
    )


def connector(base_url: str, scenario: Scenario, venue: str = "binance", secret: str | None = None) -> Any:
    return venue_connector(venue, base_url, scenario, secret=secret)


async def test_binance_state_values_every_wallet_flow_and_trade() -> None:
    scenario = full_scenario()
    with fake_venue("binance", scenario) as venue:
        state = await connector(venue.base_url, scenario).fetch_account_state(WINDOW)
    assert venue.unknown == []
    m = state.markets
    # spot market = spot wallet + funding wallet:
    #   0.5 BTC x 50,000 = 25,000; 1,000 USDT x 1 = 1,000; 2 BNB x 500 = 1,000; 200 USDC x 0.9999 = 199.98
    assert m["spot"].equity == Decimal("27199.98")
    assert m["margin"].equity == Decimal("3000")  # 1 ETH x 3,000
    assert m["swap"].equity == Decimal("31.022612")  # USDⓈ-M margin balance, USDT
    assert m["futures"].equity == Decimal("500")  # COIN-M 0.01 BTC x 50,000
    assert m["earn"].equity == Decimal("99.99")  # Simple Earn 100 USDC x 0.9999
    # 27,199.98 + 3,000 + 31.022612 + 500 + 99.99
    assert state.total_equity == Decimal("30830.992612")
    assert state.unpriced_assets == {"FOO": "7"}  # listed, never dropped
    # cash = USDT/USDC: 1,000 + 199.98 + 31.022612 + 99.99
    assert state.cash == Decimal("1330.992612")
    # deposits: 10 USDT on-chain + 555 USDT off-chain from another binance user; the 999 of 2024-05-04
    # is outside the window
    assert state.deposits == Decimal("565")
    # withdrawals: 9 USDT + 1 USDT fee = 10 left the account
    assert state.withdrawals == Decimal("10")
    # spot: 1 trade in window, 0.1 x 50,000 = 5,000; fee 0.005 BNB x 500 = 2.5
    assert (m["spot"].trades, m["spot"].volume, m["spot"].fees) == (1, Decimal("5000"), Decimal("2.5"))
    # swap = perpetuals of both wallets (market type comes from the instrument):
    #   USDⓈ-M BTCUSDT 0.010 x contractSize 1 x 36,567.10 = 365.671, fee 0.1462684 USDT
    #   COIN-M BTCUSD_PERP 3 contracts x 100 USD = 300, fee 0.000006 BTC x 50,000 = 0.3
    assert m["swap"].trades == 2
    assert m["swap"].volume == Decimal("665.671")  # 365.671 + 300
    assert m["swap"].fees == Decimal("0.4462684")  # 0.1462684 + 0.3
    assert m["swap"].funding == Decimal("-1.5")  # FUNDING_FEE income, USDT
    assert m["futures"].trades == 0  # no dated contracts traded; the COIN-M wallet equity stays here


async def test_transfer_between_own_wallets_is_not_a_flow() -> None:
    """Universal transfer of 500 USDT spot -> USDⓈ-M: same equity, no deposit/withdrawal."""
    before = binance_scenario(BALANCES, PRICES)
    moved = dict(BALANCES, spot={**BALANCES["spot"], "USDT": "500"}, usdm={"USDT": "531.022612"})
    after = binance_scenario(moved, PRICES)
    states = []
    for sc in (before, after):
        with fake_venue("binance", sc) as venue:
            states.append(await connector(venue.base_url, sc).fetch_account_state(WINDOW))
    assert states[0].total_equity == states[1].total_equity == Decimal("30830.992612")
    assert states[1].deposits == states[1].withdrawals == 0
    assert states[1].markets["swap"].equity == Decimal("531.022612")


async def test_markets_cached_per_day_and_reused() -> None:
    scenario = full_scenario()
    with fake_venue("binance", scenario) as venue:
        options = ConnectorOptions(base_url=venue.base_url, cache={})
        creds = Credentials(scenario.api_key, scenario.api_secret)
        await create("binance", creds, options).fetch_account_state(WINDOW)
        await create("binance", creds, options).fetch_account_state(WINDOW)
    assert venue.paths().count("/api/v3/exchangeInfo") == 1
    assert venue.paths().count("/fapi/v1/exchangeInfo") == 1
    assert len([key for key in options.cache if key.startswith("ccxt-markets|binance|")]) == 1


@pytest.mark.parametrize(("venue_id", "market", "equity"), [("binanceusdm", "swap", "31.022612"),
                                                           ("binancecoinm", "futures", "500")])
async def test_futures_only_venues(venue_id: str, market: str, equity: str) -> None:
    scenario = full_scenario()
    with fake_venue(venue_id, scenario) as venue:
        state = await connector(venue.base_url, scenario, venue_id).fetch_account_state(WINDOW)
    assert set(state.markets) <= {market, "swap"}  # COIN-M perps trade as swaps
    assert state.total_equity == Decimal(equity)
    assert state.markets.get("swap") is not None and state.markets["swap"].trades == 1  # one perp each
    assert state.deposits == 0  # flows belong to the spot-side `binance` connection


async def test_permissions_read_only_and_withdraw_detected() -> None:
    scenario = full_scenario()
    with fake_venue("binance", scenario) as venue:
        assert await connector(venue.base_url, scenario).permissions() == {Permission.READ}
        scenario.responses["/sapi/v1/account/apiRestrictions"].update(
            enableWithdrawals=True, enableSpotAndMarginTrading=True)
        perms = await connector(venue.base_url, scenario).permissions()
    assert perms == {Permission.READ, Permission.TRADE, Permission.WITHDRAW}


async def test_wrong_secret_is_auth_error_without_secrets(caplog: pytest.LogCaptureFixture,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = full_scenario()
    clients: list[Any] = []
    real_new = connector_module.new_exchange

    def spy(*args: Any) -> Any:
        clients.append(real_new(*args))
        return clients[-1]

    monkeypatch.setattr(connector_module, "new_exchange", spy)
    wrong = "wrong-secret-value-123456"
    caplog.set_level(logging.DEBUG)
    with fake_venue("binance", scenario) as venue:
        conn = connector(venue.base_url, scenario, secret=wrong)
        with pytest.raises(AuthError) as info:
            await conn.check_credentials()
        with pytest.raises(AuthError) as info2:
            await conn.fetch_account_state(WINDOW)
    texts = [str(info.value), repr(info.value), str(info2.value),
             "".join(traceback.format_exception(info.value)), "".join(traceback.format_exception(info2.value)),
             caplog.text]
    for text in texts:
        assert scenario.api_key not in text and wrong not in text and "signature=" not in text
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert "binance" in str(info.value)
    assert clients and all(client.session is None for client in clients)  # closed even on error


async def test_state_fetch_timing_with_cached_markets() -> None:
    """Budget 200 ms per state fetch against the loopback replica (reported, loosely asserted)."""
    timing = await measure_state_fetch("binance", full_scenario(), runs=10)
    print(f"binance state fetch, markets cached: {timing}")
    assert timing["median"] < 1000  # generous: shared CI machines; typical median is ~15-30 ms


async def test_permissive_mode_accepts_any_key_for_benchmarks() -> None:
    scenario = binance_scenario({"spot": {"USDT": "10"}}, PRICES, permissive=True)
    with fake_venue("binance", scenario) as venue:
        creds = Credentials("any-key-42", "any-secret-42")
        state = await create("binance", creds, ConnectorOptions(base_url=venue.base_url)).fetch_account_state(WINDOW)
    assert state.total_equity == Decimal("10")


async def test_a_window_after_a_long_gap_is_read_whole_in_pieces() -> None:
    """After 100 days without a run, one window spans them all. binance serves at most 90 days of deposit
    history per request and ccxt cut the query to 90 days without a word, which lost the day-100 deposit
    below: it would have counted as profit. The window is asked in pieces within each range, and trades
    at both ends are still found."""
    window = DayWindow(WINDOW.start, WINDOW.start + timedelta(days=100))
    last_ms = int((window.end - timedelta(seconds=1)).timestamp() * 1000)
    deposit = fixture("binance", "fetchDeposits")[0]
    late_deposit = {**deposit, "id": "late", "txId": "late-tx", "insertTime": str(last_ms), "amount": "5"}
    late_usdm = {**_usdm_trade(), "id": 99, "time": str(last_ms)}
    scenario = binance_scenario(
        BALANCES, PRICES,
        trades={"spot": [_spot_trade(IN_WINDOW_MS), _spot_trade(last_ms)], "usdm": [_usdm_trade(), late_usdm]},
        deposits=[deposit, late_deposit],
        income={"usdm": [_income("BTCUSDT", "COMMISSION", "-0.1462684", "USDT")]},  # names the traded symbol
    )
    with fake_venue("binance", scenario) as venue:
        state = await connector(venue.base_url, scenario).fetch_account_state(window)
    assert venue.unknown == []
    # deposit/withdrawal history in 90-day pieces (each withdrawal-history call weighs 18,000 at binance)
    assert venue.paths().count("/sapi/v1/capital/withdraw/history") == 2
    assert state.markets["spot"].trades == 2  # 10:00 on the first day and the window's last second
    assert state.markets["spot"].volume == Decimal("10000")
    assert state.markets["swap"].trades == 2
    assert state.deposits == Decimal("15")  # 10 USDT + 5 USDT


USDM_POSITION = {**fixture("binance", "fetchPositions")[0], "unRealizedProfit": "-520.00000000"}
# GET /dapi/v1/positionRisk (COIN-M): unRealizedProfit in the margin asset, BTC
COINM_POSITION = {"symbol": "BTCUSD_PERP", "positionAmt": "10", "entryPrice": "48000.0", "breakEvenPrice": "48010.0",
                  "markPrice": "50000.0", "unRealizedProfit": "0.01352000", "liquidationPrice": "0",
                  "leverage": "5", "maxQty": "100", "marginType": "cross", "isolatedMargin": "0.00000000",
                  "isAutoAddMargin": "false", "positionSide": "BOTH", "notionalValue": "-0.02000000",
                  "isolatedWallet": "0", "updateTime": 1714953599000}


async def test_positions_and_funding_of_both_futures_wallets_counted_once() -> None:
    """ccxt picks USDⓈ-M or COIN-M by subType (default linear), not by type: asking {"type": "delivery"}
    queried USDⓈ-M a second time, so its PnL counted twice and COIN-M's never (issue 19, items 1-2)."""
    coinm_funding = {**_income("BTCUSD_PERP", "FUNDING_FEE", "0.0001", "BTC"), "tranId": 77}
    scenario = binance_scenario(
        BALANCES, PRICES, positions={"usdm": [USDM_POSITION], "coinm": [COINM_POSITION]},
        income={"usdm": [_income("BTCUSDT", "FUNDING_FEE", "-1.5", "USDT")], "coinm": [coinm_funding]},
    )
    with fake_venue("binance", scenario) as venue:
        state = await connector(venue.base_url, scenario).fetch_account_state(WINDOW)
    assert venue.unknown == []
    # -520 USDT + 0.01352 BTC x 50,000 (676) = 156
    assert state.unrealized_pnl == Decimal("156")
    # each positions endpoint exactly once
    assert venue.paths().count("/fapi/v3/positionRisk") == 1
    assert venue.paths().count("/dapi/v1/positionRisk") == 1
    # funding: -1.5 USDT (USDⓈ-M) + 0.0001 BTC x 50,000 = 5 (COIN-M perpetual) -> swap
    assert state.markets["swap"].funding == Decimal("3.5")


async def test_an_empty_window_sends_no_history_query() -> None:
    """The initial snapshot's window [t, t) is empty: no deposit, withdrawal, income or trade request is
    sent (it used to go out with endTime 1 ms before startTime, which binance refuses: -1102)."""
    now = WINDOW.start + timedelta(hours=15)
    scenario = full_scenario()
    with fake_venue("binance", scenario) as venue:
        state = await connector(venue.base_url, scenario).fetch_account_state(DayWindow(now, now))
    assert venue.unknown == []
    history = ("/sapi/v1/capital/deposit/hisrec", "/sapi/v1/capital/withdraw/history", "/fapi/v1/income",
               "/dapi/v1/income", "/api/v3/myTrades", "/sapi/v1/margin/myTrades", "/fapi/v1/userTrades",
               "/dapi/v1/userTrades")
    assert [path for path in venue.paths() if path in history] == []
    assert state.total_equity == Decimal("30830.992612")
    assert state.deposits == state.withdrawals == 0


def _fiat_order(order_no: str, kind: str, amount: str, fee: str, status: str, created: int, updated: int) -> dict:
    """GET /sapi/v1/fiat/orders row (developers.binance.com "Get Fiat Deposit/Withdraw History")."""
    return {"transactionType": kind, "orderNo": order_no, "fiatCurrency": "EUR",
            "indicatedAmount": str(Decimal(amount) + Decimal(fee)), "amount": amount, "totalFee": fee,
            "method": "BankAccount", "status": status, "createTime": created, "updateTime": updated}


def _fiat_payment(order_no: str, kind: str, crypto: str, method: str, status: str) -> dict:
    """GET /sapi/v1/fiat/payments row: crypto bought with (0) or sold to (1) a card or bank."""
    return {"transactionType": kind, "orderNo": order_no, "sourceAmount": "540.00", "fiatCurrency": "EUR",
            "obtainAmount": crypto, "cryptoCurrency": "BTC", "totalFee": "5.40", "price": "50000",
            "status": status, "paymentMethod": method, "createTime": IN_WINDOW_MS, "updateTime": IN_WINDOW_MS}


async def test_fiat_deposits_withdrawals_and_card_purchases_are_flows() -> None:
    """A euro bank deposit never read became profit (issue 19, item 3). EUR is priced by EUR/USDT 1.08."""
    three_days_before = IN_WINDOW_MS - 3 * 24 * HOUR_MS
    orders = [
        _fiat_order("sepa-in", "0", "998.50", "1.50", "Finished", IN_WINDOW_MS, IN_WINDOW_MS),  # +998.50 EUR
        _fiat_order("card-in", "0", "100", "0", "Successful", three_days_before, IN_WINDOW_MS),  # final today
        _fiat_order("pending", "0", "5000", "0", "Processing", IN_WINDOW_MS, IN_WINDOW_MS),
        _fiat_order("refunded", "0", "7000", "0", "Refunded", IN_WINDOW_MS, IN_WINDOW_MS),
        _fiat_order("old", "0", "3000", "0", "Successful", three_days_before, OUT_OF_WINDOW_MS),  # earlier window
        _fiat_order("sepa-out", "1", "199", "1", "Successful", IN_WINDOW_MS, IN_WINDOW_MS),  # 200 EUR left
    ]
    payments = [
        _fiat_payment("card-buy", "0", "0.01", "Card", "Completed"),  # +0.01 BTC = 500
        _fiat_payment("from-balance", "0", "0.02", "Cash Balance", "Completed"),  # EUR -> BTC inside: no flow
        _fiat_payment("failed", "0", "0.5", "Card", "Failed"),
        _fiat_payment("card-sell", "1", "0.002", "Card", "Completed"),  # -0.002 BTC = 100
    ]
    scenario = binance_scenario(BALANCES, {**PRICES, "EUR/USDT": "1.08"}, fiat_orders=orders,
                                fiat_payments=payments)
    with fake_venue("binance", scenario) as venue:
        state = await connector(venue.base_url, scenario).fetch_account_state(WINDOW)
    assert venue.unknown == []
    # (998.50 + 100) EUR x 1.08 = 1,186.38; + 0.01 BTC x 50,000 = 500
    assert state.deposits == Decimal("1686.38")
    # 200 EUR x 1.08 = 216; + 0.002 BTC x 50,000 = 100
    assert state.withdrawals == Decimal("316")
    # one request per endpoint and direction (each under one page)
    assert venue.paths().count("/sapi/v1/fiat/orders") == 2
    assert venue.paths().count("/sapi/v1/fiat/payments") == 2


async def test_fiat_history_longer_than_a_page_is_read_whole() -> None:
    """binance serves at most 500 fiat rows a page: 1,201 deposits of 1 EUR are three pages, all counted."""
    orders = [_fiat_order(f"o{i}", "0", "1", "0", "Successful", IN_WINDOW_MS, IN_WINDOW_MS) for i in range(1201)]
    scenario = binance_scenario(BALANCES, {**PRICES, "EUR/USDT": "1.08"}, fiat_orders=orders)
    with fake_venue("binance", scenario) as venue:
        state = await connector(venue.base_url, scenario).fetch_account_state(WINDOW)
    assert state.deposits == Decimal("1297.08")  # 1,201 x 1.08
    assert venue.paths().count("/sapi/v1/fiat/orders") == 3 + 1  # deposits: 3 pages; withdrawals: 1


async def test_coins_quoted_only_in_bnb_euro_or_lira_are_priced_through_them() -> None:
    """GALA trades only against BNB, DOT only against EUR, and TRY is quoted as USDT/TRY: each is priced
    along its shortest route (GALA -> BNB -> BTC -> USDT), not listed as unpriced (issue 19, item 4)."""
    prices = {**PRICES, "GALA/BNB": "0.0001", "EUR/USDT": "1.08", "DOT/EUR": "6.5", "USDT/TRY": "32"}
    scenario = binance_scenario({"spot": {"GALA": "1000", "DOT": "10", "TRY": "320", "FOO": "7"}}, prices)
    with fake_venue("binance", scenario) as venue:
        state = await connector(venue.base_url, scenario).fetch_account_state(WINDOW)
    # 1,000 x 0.0001 BNB x 500 = 50; 10 x 6.5 EUR x 1.08 = 70.2; 320 TRY / 32 = 10
    assert state.total_equity == Decimal("130.2")
    assert state.unpriced_assets == {"FOO": "7"}


async def test_simple_earn_receipts_in_the_spot_balance_are_not_counted_twice() -> None:
    """binance's spot balance lists flexible Simple Earn positions again as LD<asset>: counted once, from
    Simple Earn, and not listed as an unpriced asset. LDO (a coin) is not such a receipt."""
    balances = {"spot": {"USDT": "10", "LDUSDC": "100", "LDO": "3"}, "earn": {"USDC": "100"}}
    scenario = binance_scenario(balances, PRICES)
    with fake_venue("binance", scenario) as venue:
        state = await connector(venue.base_url, scenario).fetch_account_state(WINDOW)
    assert state.total_equity == Decimal("109.99")  # 10 USDT + 100 USDC x 0.9999
    assert state.unpriced_assets == {"LDO": "3"}


@pytest.mark.parametrize(("venue_id", "wallet", "asset", "price"), [("binanceusdm", "usdm", "USDT", "1"),
                                                                    ("binancecoinm", "coinm", "BTC", "50000")])
async def test_a_futures_only_connection_counts_transfers_into_and_out_of_its_wallet(
    venue_id: str, wallet: str, asset: str, price: str
) -> None:
    """A futures-only connection sees one wallet: 500 moved in from spot was counted as profit. Income
    history TRANSFER rows are its flows (+ in, - out); the whole-account `binance` connection ignores them
    (they are moves between its own wallets)."""
    symbol = "BTCUSDT" if wallet == "usdm" else "BTCUSD_PERP"
    transfers = [{**_income(symbol, "TRANSFER", "0.01", asset), "tranId": 1},
                 {**_income(symbol, "TRANSFER", "-0.002", asset), "tranId": 2},
                 {**_income(symbol, "TRANSFER", "5", asset), "tranId": 3, "time": OUT_OF_WINDOW_MS}]
    scenario = binance_scenario(BALANCES, PRICES, income={wallet: transfers})
    with fake_venue(venue_id, scenario) as venue:
        state = await connector(venue.base_url, scenario, venue_id).fetch_account_state(WINDOW)
        whole = await connector(venue.base_url, scenario).fetch_account_state(WINDOW)
    assert (state.deposits, state.withdrawals) == (Decimal("0.01") * Decimal(price), Decimal("0.002") * Decimal(price))
    assert (whole.deposits, whole.withdrawals) == (0, 0)


async def test_each_endpoint_is_called_as_often_as_it_must_be() -> None:
    """One daily window: every wallet, positions and flow endpoint exactly once (fiat: one per direction),
    nothing missing; income twice per futures API (commission discovery, then funding)."""
    scenario = full_scenario(positions={"usdm": [USDM_POSITION], "coinm": [COINM_POSITION]})
    with fake_venue("binance", scenario) as venue:
        await connector(venue.base_url, scenario).fetch_account_state(WINDOW)
    calls = {path: venue.paths().count(path) for path in set(venue.paths())}
    once = ("/api/v3/account", "/sapi/v1/asset/get-funding-asset", "/sapi/v1/margin/account", "/fapi/v3/account",
            "/dapi/v1/account", "/sapi/v1/simple-earn/flexible/position", "/sapi/v1/simple-earn/locked/position",
            "/fapi/v3/positionRisk", "/dapi/v1/positionRisk", "/sapi/v1/capital/deposit/hisrec",
            "/sapi/v1/capital/withdraw/history", "/api/v3/ticker/24hr", "/api/v3/exchangeInfo",
            "/fapi/v1/exchangeInfo", "/dapi/v1/exchangeInfo")
    assert {path: calls.get(path) for path in once} == dict.fromkeys(once, 1)
    assert (calls["/sapi/v1/fiat/orders"], calls["/sapi/v1/fiat/payments"]) == (2, 2)  # deposits, withdrawals
    assert (calls["/fapi/v1/income"], calls["/dapi/v1/income"]) == (2, 2)
    assert venue.unknown == []


async def test_deposit_history_longer_than_a_page_is_read_whole() -> None:
    """binance serves at most 1,000 deposits a request (`offset` pages on): 1,201 in one day are all counted."""
    deposit = fixture("binance", "fetchDeposits")[0]
    rows = [{**deposit, "id": f"d{n}", "txId": f"t{n}", "amount": "1", "insertTime": str(IN_WINDOW_MS + n)}
            for n in range(1201)]
    scenario = binance_scenario(BALANCES, PRICES, deposits=rows)
    with fake_venue("binance", scenario) as venue:
        state = await connector(venue.base_url, scenario).fetch_account_state(WINDOW)
    assert state.deposits == Decimal("1201")
    assert venue.paths().count("/sapi/v1/capital/deposit/hisrec") == 2
