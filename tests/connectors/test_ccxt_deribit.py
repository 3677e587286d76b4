"""deribit (spot, inverse and linear perpetuals, a dated future, an option; flows per currency) through real
ccxt against the local fake (tests/fakes/venues/deribit.py).

Prices (book summaries): BTC-PERPETUAL 50,000 USD and ETH-PERPETUAL 2,500 USD price BTC and ETH; USDC from
BTC_USDC 50,000 (1 USD); USDT_USDC 0.9995; EURR_USDC 1.08; STETH trades only against ETH (STETH_ETH 0.998:
2,495 USD). deribit has no USD stablecoin market, so USDC and USDT are valued at their books.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import pytest

from app.connectors.base import AuthError, DayWindow, Permission
from tests.connectors.checks import permissions_asked
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
from tests.fakes.venues.deribit import PREFIX, PRICES, position, scenario

HOUR_MS = 3_600_000
SUMMARIES = {"BTC": "1.2", "ETH": "10", "USDC": "5000", "USDT": "1000", "STETH": "2", "EURR": "100"}
POSITIONS = [
    position("BTC-PERPETUAL", "future", "0.01", "10000"),  # +0.01 BTC = 500
    position("BTC-28JUN24", "future", "-0.002", "-5000"),  # -0.002 BTC = -100
    position("BTC-28JUN24-60000-C", "option", "0.004", "1"),  # +0.004 BTC = 200
    position("ETH-PERPETUAL", "future", "0.1", "100"),  # +0.1 ETH = 250
    position("BTC_USDC-PERPETUAL", "future", "30", "0.1"),  # +30 USDC = 30
]


def deposit(currency: str, amount: str, ms: int, state: str = "completed", tx: str | None = None) -> dict[str, Any]:
    return {"address": "bc1qfake", "amount": float(amount), "currency": currency, "received_timestamp": ms - HOUR_MS,
            "state": state, "transaction_id": tx or f"tx-{currency}-{amount}-{ms}", "updated_timestamp": ms,
            "source_address": "bc1qsource", "note": ""}


def withdrawal(n: int, currency: str, amount: str, fee: str, ms: int, state: str = "completed") -> dict[str, Any]:
    return {"id": n, "address": "0xfake", "amount": float(amount), "fee": float(fee), "currency": currency,
            "created_timestamp": ms - HOUR_MS, "confirmed_timestamp": ms, "updated_timestamp": ms, "priority": 1,
            "state": state, "transaction_id": f"0xw{n}"}


def transfer(n: int, currency: str, amount: str, direction: str, kind: str, ms: int,
             state: str = "confirmed") -> dict[str, Any]:
    return {"id": n, "amount": float(amount), "currency": currency, "direction": direction, "other_side": "friend",
            "state": state, "type": kind, "created_timestamp": ms, "updated_timestamp": ms}


def trade(n: int, currency: str, instrument: str, amount: str, price: str, fee: str, fee_ccy: str,
          ms: int) -> dict[str, Any]:
    return {"_currency": currency, "trade_id": f"{instrument}-{n}", "trade_seq": n, "timestamp": ms,
            "instrument_name": instrument, "order_id": f"o{n}", "order_type": "limit", "direction": "buy",
            "amount": float(amount), "price": float(price), "fee": float(fee), "fee_currency": fee_ccy,
            "liquidity": "T", "index_price": 50000.0, "mark_price": float(price), "state": "filled",
            "tick_direction": 0, "self_trade": False, "reduce_only": False, "post_only": False, "mmp": False,
            "matching_id": None, "api": True}


TRADES = [
    trade(1, "BTC", "BTC-PERPETUAL", "10000", "50000", "0.0001", "BTC", IN_WINDOW_MS),  # 10,000 USD; fee 5
    trade(2, "BTC", "BTC-28JUN24-60000-C", "1", "0.05", "0.0003", "BTC", IN_WINDOW_MS),  # 1 BTC = 50,000; fee 15
    trade(3, "BTC", "BTC-28JUN24", "5000", "51000", "0.00005", "BTC", IN_WINDOW_MS),  # 5,000 USD; fee 2.5
    trade(4, "ETH", "ETH_USDC", "2", "2500", "0.5", "USDC", IN_WINDOW_MS),  # 5,000 USDC; fee 0.5
    trade(5, "USDC", "BTC_USDC-PERPETUAL", "0.1", "50000", "1.5", "USDC", IN_WINDOW_MS),  # 5,000; fee 1.5
    trade(6, "BTC", "BTC-PERPETUAL", "99000", "50000", "0.1", "BTC", OUT_OF_WINDOW_MS),  # 05-04: outside
]


def full() -> Scenario:
    return scenario(
        SUMMARIES, PRICES, positions=POSITIONS, trades=TRADES,
        deposits=[deposit("BTC", "0.1", IN_WINDOW_MS), deposit("USDC", "2000", IN_WINDOW_MS),
                  deposit("ETH", "1", IN_WINDOW_MS, state="pending"), deposit("BTC", "0.5", OUT_OF_WINDOW_MS)],
        withdrawals=[withdrawal(1, "USDT", "100", "1", IN_WINDOW_MS),
                     withdrawal(2, "BTC", "0.01", "0.0001", IN_WINDOW_MS, state="unconfirmed")],
        transfers=[transfer(1, "ETH", "2", "income", "subaccount", IN_WINDOW_MS),
                   transfer(2, "USDC", "300", "payment", "user", IN_WINDOW_MS),
                   transfer(3, "BTC", "1", "income", "user", IN_WINDOW_MS, state="prepared")])


connector = partial(venue_connector, "deribit")


async def test_deribit_state_per_field() -> None:
    sc = full()
    with fake_venue("deribit", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    # 1.2 BTC x 50,000 + 10 ETH x 2,500 + 5,000 USDC + 1,000 USDT x 0.9995 + 2 STETH x 0.998 x 2,500
    # + 100 EURR x 1.08 = 60,000 + 25,000 + 5,000 + 999.5 + 4,990 + 108
    assert state.total_equity == Decimal("96097.5")
    assert state.markets["swap"].equity == Decimal("96097.5")
    assert state.unpriced_assets == {}
    assert state.cash == Decimal("5999.5")  # USDC 5,000 + USDT 999.5
    assert state.unrealized_pnl == Decimal("880")  # 500 - 100 + 200 + 250 + 30 (already in equity)
    # deposits: 0.1 BTC (5,000) + 2,000 USDC + 2 ETH from a subaccount (5,000); the pending ETH deposit,
    # the 05-04 deposit and the prepared transfer do not count
    assert state.deposits == Decimal("12000")
    # withdrawals: (100 + 1 fee) USDT x 0.9995 + 300 USDC to another user; the unconfirmed one does not count
    assert state.withdrawals == Decimal("400.9495")
    swap, futures, options, spot = (state.markets[m] for m in ("swap", "futures", "options", "spot"))
    assert (swap.trades, swap.volume, swap.fees) == (2, Decimal("15000"), Decimal("6.5"))
    assert (futures.trades, futures.volume, futures.fees) == (1, Decimal("5000"), Decimal("2.5"))
    assert (options.trades, options.volume, options.fees) == (1, Decimal("50000"), Decimal("15"))
    assert (spot.trades, spot.volume, spot.fees) == (1, Decimal("5000"), Decimal("0.5"))
    calls = Counter(venue.paths())
    per_currency = 6  # BTC, ETH, EURR, USDC, USDT and the held STETH
    assert calls == {
        f"{PREFIX}public/get_currencies": 1, f"{PREFIX}public/get_instruments": 1,
        # spot books of BTC, ETH, EURR, STETH, USDC, USDT; futures books of BTC and ETH
        f"{PREFIX}public/get_book_summary_by_currency": 8,
        f"{PREFIX}private/get_account_summaries": 1, f"{PREFIX}private/get_positions": 1,
        f"{PREFIX}private/get_deposits": per_currency, f"{PREFIX}private/get_withdrawals": per_currency,
        f"{PREFIX}private/get_transfers": per_currency,
        f"{PREFIX}private/get_user_trades_by_currency_and_time": 5,  # BTC, ETH, USDC, USDT, EURR
    }


async def test_deribit_as_plain_ccxt_reads_it() -> None:
    """ccxt 4.5.64 alone: balances per currency, positions' unrealized PnL and flows are the scenario's; it asks
    deribit's default 10 rows of history (no paging) and dates a deposit by its arrival, not its completion."""
    sc = full()
    with fake_venue("deribit", sc) as venue:
        ex = plain("deribit", venue.base_url, sc)
        ex.has["fetchCurrencies"] = True  # public on deribit, and served by the fake
        try:
            balance = await ex.fetch_balance()
            positions = await ex.fetch_positions()
            deposits = await ex.fetch_deposits("BTC")
            withdrawals = await ex.fetch_withdrawals("USDT")
            try:
                await ex.fetch_tickers()
            except Exception as exc:  # noqa: BLE001 - the point: ccxt refuses without a currency
                refused = type(exc).__name__
            else:
                refused = ""
        finally:
            await ex.close()
    assert {code: balance["total"][code] for code in SUMMARIES} == {code: float(v) for code, v in SUMMARIES.items()}
    assert sorted((p["symbol"], p["unrealizedPnl"]) for p in positions) == sorted([
        ("BTC/USD:BTC", 0.01), ("BTC/USD:BTC-240628", -0.002), ("BTC/USD:BTC-240628-60000-C", 0.004),
        ("ETH/USD:ETH", 0.1), ("BTC/USDC:USDC", 30.0)])
    assert [(t["type"], t["amount"], t["status"], t["timestamp"]) for t in deposits] == [
        ("deposit", 0.5, "ok", OUT_OF_WINDOW_MS - HOUR_MS), ("deposit", 0.1, "ok", IN_WINDOW_MS - HOUR_MS)]
    assert [(t["type"], t["amount"], t["fee"]["cost"], t["status"]) for t in withdrawals] == [
        ("withdrawal", 100.0, 1.0, "ok")]
    assert refused == "ArgumentsRequired"
    assert f"{PREFIX}private/get_transfers" not in venue.paths()  # transfers are never read by ccxt's flows


@pytest.mark.parametrize(("scope", "expected"), [
    ("account:read trade:read wallet:read mainaccount", {Permission.READ}),
    ("account:read trade:read_write wallet:read mainaccount", {Permission.READ, Permission.TRADE}),
    ("account:read_write trade:read_write wallet:read_write block_trade:read_write mainaccount",
     {Permission.READ, Permission.TRADE, Permission.WITHDRAW}),
])
async def test_permissions_from_the_scope_public_auth_grants(scope: str, expected: set[Permission]) -> None:
    sc = scenario(SUMMARIES, PRICES, scope=scope)
    assert await permissions_asked("deribit", sc) == (expected, [f"{PREFIX}public/auth"])


async def test_a_wrong_secret_is_an_auth_error_without_secrets() -> None:
    sc = full()
    with fake_venue("deribit", sc) as venue:
        with pytest.raises(AuthError) as raised:
            await connector(venue.base_url, sc, secret="not-the-secret-0001").check_credentials()
        with pytest.raises(AuthError):
            await connector(venue.base_url, sc, secret="not-the-secret-0001").permissions()
    assert "not-the-secret-0001" not in str(raised.value) and sc.api_key not in str(raised.value)


async def test_more_rows_than_one_page_are_all_read() -> None:
    """1,500 completed USDC deposits and 1,500 BTC-PERPETUAL fills in the window: deribit serves at most
    1,000 rows a request (ccxt asks its default 10 and stops)."""
    rows = [deposit("USDC", "1", IN_WINDOW_MS + n, tx=f"d{n}") for n in range(1500)]
    fills = [trade(100 + n, "BTC", "BTC-PERPETUAL", "10", "50000", "0", "BTC", IN_WINDOW_MS + n) for n in range(1500)]
    sc = scenario({"USDC": "1500"}, PRICES, deposits=rows, trades=fills)
    with fake_venue("deribit", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert state.deposits == Decimal("1500")
    assert (state.markets["swap"].trades, state.markets["swap"].volume) == (1500, Decimal("15000"))
    assert venue.paths().count(f"{PREFIX}private/get_deposits") == 5 + 1  # USDC takes two pages


async def test_a_deposit_completed_one_and_three_days_late_counts_once() -> None:
    """Both deposits arrive 05-05 12:00 and are pending; deribit moves `updated_timestamp` when one completes
    (05-06 18:00, 05-08 18:00). Connect at 05-05 00:00 (an older completed deposit is in the opening
    balance: recorded, never counted), then the daily runs of 05-06 ... 05-10 00:00."""
    old = deposit("USDT", "700", OUT_OF_WINDOW_MS, tx="old")
    one_day = deposit("USDT", "10", IN_WINDOW_MS, state="pending", tx="one")
    three_days = deposit("USDT", "30", IN_WINDOW_MS, state="pending", tx="three")
    sc = scenario({"USDT": "10"}, PRICES, deposits=[old, one_day, three_days])
    seen = await deposits_counted_daily("deribit", sc, {
        2: lambda: one_day.update(state="completed", updated_timestamp=IN_WINDOW_MS + 30 * HOUR_MS),
        4: lambda: three_days.update(state="completed", updated_timestamp=IN_WINDOW_MS + 78 * HOUR_MS)})
    assert seen == [0, 0, Decimal("9.995"), 0, Decimal("29.985"), 0]  # 10 and 30 USDT x 0.9995


async def test_an_empty_window_asks_no_history() -> None:
    sc = full()
    instant = datetime(2024, 5, 5, 14, 30, tzinfo=UTC)
    with fake_venue("deribit", sc) as venue:
        await connector(venue.base_url, sc).fetch_account_state(DayWindow(instant, instant))
    assert not [p for p in venue.paths() if "get_deposits" in p or "get_user_trades" in p or "transfers" in p]
