"""IBKR Flex end to end: the connector's httpx client against the fake Flex Web Service."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.connectors import ibkr, ibkr_flex
from app.connectors.base import (
    AuthError,
    ConnectorOptions,
    Credentials,
    DayWindow,
    EquityPoint,
    MarketStats,
    Permission,
    RateLimited,
    VenueUnavailable,
)
from app.connectors.registry import build_connector
from tests.fakes.brokers import (
    FLEX_DIR,
    IBKR_EXPIRED_TOKEN,
    IBKR_TOKEN,
    FakeBrokers,
)

D = Decimal


def day(y: int, m: int, d: int) -> DayWindow:
    start = datetime(y, m, d, tzinfo=UTC)
    return DayWindow(start, start.replace(day=d + 1))


class RecordedSleep:
    """Injected instead of asyncio.sleep: tests never wait, and see the backoff schedule."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def connector(brokers: FakeBrokers, query: str = "daily", token: str = IBKR_TOKEN,
              **kwargs: object) -> tuple[ibkr.IbkrFlexConnector, RecordedSleep]:
    sleep = RecordedSleep()
    conn = ibkr.IbkrFlexConnector(Credentials(token, query), ConnectorOptions(base_url=brokers.base_url),
                                  sleep=sleep, **kwargs)  # type: ignore[arg-type]
    return conn, sleep


async def test_daily_statement_maps_equity_markets_trades_and_no_flows(brokers: FakeBrokers) -> None:
    conn = build_connector("ibkr", Credentials(IBKR_TOKEN, "daily"), ConnectorOptions(base_url=brokers.base_url))
    try:
        state = await conn.fetch_account_state(day(2025, 1, 15))
    finally:
        await conn.close()
    # EquitySummaryByReportDateInBase reportDate=20250115: total 425526.00, cash 150000.50,
    # stock 250000.00, options 25000.00 (commodities 0)
    assert state.total_equity == D("425526.00")
    assert state.cash == D("150000.50")
    assert state.markets["stocks"].equity == D("250000.00")
    assert state.markets["options"].equity == D("25000.00")
    # OpenPositions fifoPnlUnrealized x fxRateToBase: AAPL 2750, TSLA 1950, RY 5500 x 0.72 (CAD),
    # AAPL call 3750, ESH5 future 25125
    assert state.unrealized_pnl == D("2750") + D("1950") + D("5500") * D("0.72") + D("3750") + D("25125")
    # Trades on 20250115: GOOGL tradeMoney 17550.00 commission -1.25; MSFT tradeMoney -21012.50 commission -0.75
    assert state.markets["stocks"].trades == 2
    assert state.markets["stocks"].volume == D("17550.00") + D("21012.50")
    assert state.markets["stocks"].fees == D("1.25") + D("0.75")
    # SPY option: tradeMoney 2500.00 (10 x 2.50 x multiplier 100), commission -6.50
    assert state.markets["options"].trades == 1
    assert state.markets["options"].volume == D("2500.00")
    assert state.markets["options"].fees == D("6.50")
    # CashTransactions are a dividend (+125), its withholding tax (-18.75) and debit interest (-12.50):
    # income and costs of the investment, not external flows.
    assert state.deposits == 0 and state.withdrawals == 0


def point(day: date, total: str, cash: str, *, unrealized: int, stocks: str, options: str, trades: int,
          volume: int, fees: int) -> EquityPoint:
    return EquityPoint(day, D(total), cash=D(cash), unrealized_pnl=D(unrealized), markets={
        "stocks": MarketStats(equity=D(stocks), trades=trades, volume=D(volume), fees=D(fees)),
        "options": MarketStats(equity=D(options))})


async def test_backfill_returns_one_point_per_report_date(brokers: FakeBrokers) -> None:
    conn, _ = connector(brokers, "backfill")
    try:
        points = await conn.fetch_history(days=365)
        state = await conn.fetch_account_state(day(2025, 1, 2))
    finally:
        await conn.close()
    # Three FlexStatements, one per day; each point has what its statement has (no deposits):
    # EquitySummaryByReportDateInBase total / cash / stock / options, the sum of that day's
    # OpenPosition fifoPnlUnrealized, and that day's executions (|tradeMoney|, -ibCommission).
    assert points == [
        point(date(2025, 1, 1), "155000", "100000", unrealized=1000 + 1000 + 1000, stocks="50000", options="5000",
              trades=2, volume=12400 + 3600, fees=25 + 25),
        point(date(2025, 1, 2), "159000", "98000", unrealized=1500 + 1500 + 100 + 2000, stocks="55000",
              options="6000", trades=2, volume=3900 + 4200, fees=100 + 100),
        point(date(2025, 1, 3), "162500", "95000", unrealized=1920 + 1750 + 100 + 3500, stocks="60000",
              options="7500", trades=2, volume=5120 + 2025, fees=30 + 30),
    ]
    # 20250102: NVDA BUY tradeMoney 3900 (commission -100), TSLA SELL tradeMoney -4200 (commission -100)
    assert state.total_equity == D("159000")
    assert state.markets["stocks"].trades == 2
    assert state.markets["stocks"].volume == D("3900") + D("4200")
    assert state.markets["stocks"].fees == D("200")
    # unrealized on 20250102: AAPL 1500 + MSFT 1500 + NVDA 100 + AAPL call 2000
    assert state.unrealized_pnl == D("5100")
    # history and state came from one statement: one SendRequest, one GetStatement
    assert [p for _, p in brokers.state.requests].count("/AccountManagement/FlexWebService/SendRequest") == 1


async def test_backfill_window_counts_back_from_the_newest_report(brokers: FakeBrokers) -> None:
    conn, _ = connector(brokers, "backfill")
    try:
        points = await conn.fetch_history(days=2)
    finally:
        await conn.close()
    assert [p.day for p in points] == [date(2025, 1, 2), date(2025, 1, 3)]


async def test_weekend_uses_the_last_report_date(brokers: FakeBrokers) -> None:
    conn, _ = connector(brokers, "backfill")
    try:
        state = await conn.fetch_account_state(day(2025, 1, 5))  # a Sunday: latest NAV is 20250103
    finally:
        await conn.close()
    assert state.total_equity == D("162500")
    assert state.markets["stocks"].trades == 0


async def test_polls_on_1019_then_succeeds(brokers: FakeBrokers) -> None:
    brokers.state.ibkr_pending_polls = 3
    conn, sleep = connector(brokers)
    try:
        state = await conn.fetch_account_state(day(2025, 1, 15))
    finally:
        await conn.close()
    assert state.total_equity == D("425526.00")
    assert sleep.delays == [1.0, 2.0, 3.0]  # bounded, increasing backoff


async def test_polling_gives_up_within_its_budget(brokers: FakeBrokers) -> None:
    brokers.state.ibkr_pending_polls = 1000
    conn, sleep = connector(brokers, max_wait_s=20)
    with pytest.raises(VenueUnavailable, match="not ready"):
        await conn.check_credentials()
    await conn.close()
    assert sum(sleep.delays) <= 20


async def test_expired_token_is_an_auth_error_with_a_clear_message(brokers: FakeBrokers,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    conn, _ = connector(brokers, token=IBKR_EXPIRED_TOKEN)
    with pytest.raises(AuthError, match="expired") as info:
        await conn.check_credentials()
    await conn.close()
    assert "1012" in str(info.value)
    assert IBKR_EXPIRED_TOKEN not in str(info.value) and IBKR_EXPIRED_TOKEN not in caplog.text


async def test_invalid_token_and_bad_query_are_distinguished(brokers: FakeBrokers) -> None:
    conn, _ = connector(brokers, token="not-a-real-token-000")
    with pytest.raises(AuthError, match="token is invalid"):
        await conn.check_credentials()
    await conn.close()
    conn, _ = connector(brokers, query="no-such-query")
    with pytest.raises(ibkr.FlexQueryError, match="query") as info:
        await conn.check_credentials()
    await conn.close()
    assert "1014" in str(info.value)


async def test_throttling_retries_then_rate_limited(brokers: FakeBrokers) -> None:
    brokers.state.ibkr_throttle = True
    conn, sleep = connector(brokers)
    with pytest.raises(RateLimited, match="1018"):
        await conn.check_credentials()
    await conn.close()
    assert sleep.delays == list(ibkr.THROTTLE_DELAYS)


async def test_statement_with_utf8_bom_parses(brokers: FakeBrokers) -> None:
    brokers.state.ibkr_prefix_bom = True
    conn, _ = connector(brokers)
    try:
        state = await conn.fetch_account_state(day(2025, 1, 15))
    finally:
        await conn.close()
    assert state.total_equity == D("425526.00")
    # the real BOM-prefixed statement (gabbersepp StatementOfFunds) parses; it has no NAV rows
    conn, _ = connector(brokers, "funds-bom")
    try:
        assert await conn.fetch_history(days=365) == []
    finally:
        await conn.close()


def test_real_bom_fixture_starts_with_a_bom_and_parses() -> None:
    body = (FLEX_DIR / "gabbersepp-ib-flex-reader_StatementOfFunds.xml").read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    assert ibkr_flex.is_statement(body)
    assert ibkr_flex.parse_statement(body).equity == {}


def test_only_deposits_and_withdrawals_are_flows() -> None:
    data = ibkr_flex.parse_statement((FLEX_DIR / "clifton-ib-flex_activity_cash.xml").read_bytes())
    # 15 CashTransactions; only the two of type "Deposits & Withdrawals" move the owner's money:
    # +10000.00 (Electronic Fund Transfer) and -5000.00 (Withdrawal via ACH). Interest, dividends,
    # withholding tax, fees, payment in lieu and cash receipts stay in the return.
    assert data.flows == [(date(2025, 1, 15), D("10000.00")), (date(2025, 1, 15), D("-5000.00"))]


def test_multi_currency_trades_use_fx_rate_to_base() -> None:
    data = ibkr_flex.parse_statement((FLEX_DIR / "gabbersepp-ib-flex-reader_TestForCoding.xml").read_bytes())
    futures = [t for t in data.trades if t.market == "futures"]
    # FUT rows: 4 DAX (EUR, fxRateToBase 1) tradeMoney 286575, 286575, 286850, 286850 and
    # 4 YM (USD, fxRateToBase 0.88221) tradeMoney 130240, 130240, 130000, 130010
    assert len(futures) == 8
    assert sum((t.notional for t in futures), D(0)) == (
        D("286575") * 2 + D("286850") * 2 + (D("130240") * 2 + D("130000") + D("130010")) * D("0.88221"))


async def test_permissions_are_read_only(brokers: FakeBrokers) -> None:
    conn, _ = connector(brokers)
    assert await conn.permissions() == {Permission.READ}
    await conn.close()


async def test_token_never_reaches_logs_or_errors(brokers: FakeBrokers, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # an app started earlier in this process quiets httpx
    conn, _ = connector(brokers)
    await conn.check_credentials()
    await conn.close()
    assert "t=***" in caplog.text  # httpx logged the request lines, masked
    assert IBKR_TOKEN not in caplog.text
    unreachable = ibkr.IbkrFlexConnector(Credentials(IBKR_TOKEN, "daily"),
                                         ConnectorOptions(base_url="http://127.0.0.1:9", timeout_s=2))
    with pytest.raises(VenueUnavailable) as info:
        await unreachable.check_credentials()
    await unreachable.close()
    assert IBKR_TOKEN not in str(info.value) and info.value.__cause__ is None
    assert IBKR_TOKEN not in caplog.text


def test_statement_url_only_goes_to_interactive_brokers() -> None:
    conn = ibkr.IbkrFlexConnector(Credentials(IBKR_TOKEN, "q"), ConnectorOptions())
    good = "https://gdcdyn.interactivebrokers.com/AccountManagement/FlexWebService/GetStatement"
    assert conn._statement_url(good) == good
    assert conn._statement_url("https://evil.example/steal") == ibkr.DEFAULT_BASE_URL + ibkr.STATEMENT_PATH
    assert conn._statement_url("http://gdcdyn.interactivebrokers.com/x") == ibkr.DEFAULT_BASE_URL + ibkr.STATEMENT_PATH
    override = ibkr.IbkrFlexConnector(Credentials(IBKR_TOKEN, "q"), ConnectorOptions(base_url="http://127.0.0.1:1/"))
    assert override._statement_url(good) == "http://127.0.0.1:1/AccountManagement/FlexWebService/GetStatement"


def test_query_id_may_come_from_extra() -> None:
    conn = ibkr.IbkrFlexConnector(Credentials(IBKR_TOKEN, "", extra={"query_id": "123"}), ConnectorOptions())
    assert conn._query_id == "123"
    with pytest.raises(AuthError):
        ibkr.IbkrFlexConnector(Credentials(IBKR_TOKEN, ""), ConnectorOptions())


async def test_transfers_from_other_accounts_are_flows(brokers: FakeBrokers) -> None:
    from tests.fakes.flex_statements import Nav, Statement, Transfer, render

    mar = lambda day: date(2025, 3, day)  # noqa: E731
    navs = [Nav(mar(3), "100000"), Nav(mar(4), "100100"), Nav(mar(5), "104100"), Nav(mar(6), "103550"),
            Nav(mar(7), "103600")]
    brokers.state.ibkr_queries["transfers"] = render(Statement(mar(3), mar(7), navs, transfers=[
        Transfer("ACATS", "IN", mar(5), symbol="TSLA", quantity="10", position_amount_in_base="4000"),
        Transfer("INTERNAL", "OUT", mar(6), asset_category="CASH", cash_transfer="-500", currency="EUR",
                 fx_rate_to_base="1.1"),
        Transfer("FOP", "IN", mar(7), symbol="MSFT", quantity="3"),  # no value stated
    ]))
    conn, _ = connector(brokers, "transfers")
    try:
        points = {p.day: p for p in await conn.fetch_history(days=365)}
        wednesday = await conn.fetch_account_state(day(2025, 3, 5))
        thursday = await conn.fetch_account_state(day(2025, 3, 6))
        friday = await conn.fetch_account_state(day(2025, 3, 7))
    finally:
        await conn.close()
    assert (wednesday.deposits, wednesday.withdrawals, wednesday.flows_known) == (D("4000"), 0, True)
    assert (thursday.deposits, thursday.withdrawals) == (0, D("500") * D("1.1"))
    assert friday.flows_known is False and friday.deposits == 0  # a position came in at no stated value
    assert points[mar(5)].deposits == D("4000") and points[mar(6)].withdrawals == D("550.0")
    assert points[mar(7)].breakdown()["flows_unavailable"] is True


async def test_a_eur_account_converts_gbp_flows_through_the_base_to_usd(brokers: FakeBrokers) -> None:
    from tests.fakes.flex_statements import Flow, Nav, Statement, render

    mar = lambda day: date(2025, 3, day)  # noqa: E731
    navs = [Nav(mar(3), "90000", cash="9000"), Nav(mar(4), "91200", cash="10200")]
    gbp_in = Flow("1000", "20250304;090000", mar(4), currency="GBP", fx_rate_to_base="1.2")  # 1,200 EUR
    eur_out = Flow("-450", "20250304;100000", mar(4), currency="EUR")
    brokers.state.ibkr_queries["eur"] = render(Statement(mar(3), mar(4), navs, [gbp_in, eur_out], base="EUR",
                                                         usd_rate="0.9"))  # 1 USD = 0.9 EUR
    conn, _ = connector(brokers, "eur")
    try:
        state = await conn.fetch_account_state(day(2025, 3, 4))
    finally:
        await conn.close()
    usd = 1 / D("0.9")
    assert state.total_equity == D("91200") * usd and state.cash == D("10200") * usd
    assert state.deposits == D("1000") * D("1.2") * usd
    assert state.withdrawals == D("450") * usd


async def test_a_midweek_holiday_is_closed_but_a_weekday_not_yet_valued_is_not(brokers: FakeBrokers) -> None:
    from tests.fakes.flex_statements import Nav, Statement, render

    mar = lambda day: date(2025, 3, day)  # noqa: E731
    # Wednesday 5 has no NAV row between Tuesday's and Thursday's: a holiday. The statement runs to
    # Sunday 9, but Friday 7's NAV row is not there (not produced yet): Friday is not a closed day, and
    # the weekend after it is not carried from Thursday either.
    navs = [Nav(mar(3), "100"), Nav(mar(4), "101"), Nav(mar(6), "102")]
    brokers.state.ibkr_queries["holiday"] = render(Statement(mar(3), mar(9), navs))
    conn, _ = connector(brokers, "holiday")
    try:
        points = await conn.fetch_history(days=365)
        wednesday = await conn.fetch_account_state(day(2025, 3, 5))
        friday = await conn.fetch_account_state(day(2025, 3, 7))
    finally:
        await conn.close()
    assert [(p.day.day, p.total_equity, p.market_closed) for p in points] == [
        (3, D("100"), False), (4, D("101"), False), (5, D("101"), True), (6, D("102"), False)]
    assert wednesday.market_closed is True and wednesday.total_equity == D("101")
    assert friday.market_closed is False and friday.total_equity == D("102")  # stale, not closed
