"""Pure parsing of IBKR Flex Web Service XML (no I/O). Blocking CPU work: callers run it in a thread.

Two document kinds come back from the Flex Web Service:
- the envelope `<FlexStatementResponse>` (SendRequest answers, and GetStatement errors/"not ready");
- the statement `<FlexQueryResponse><FlexStatements><FlexStatement …>` (one per account and period).

Everything numeric is converted to USD here, so the connector only adds things up:
amount (trade/cash currency) × fxRateToBase → account base currency × base→USD (ConversionRates).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET

from app.connectors.base import AccountState, EquityPoint, MalformedResponse, MarketStats
from app.core.money import ZERO, to_decimal

ONE = Decimal(1)
UTF8_BOM = b"\xef\xbb\xbf"

# Flex assetCategory -> our market. Anything not listed is a listed security (bonds, funds, ETFs…)
# and counts as "stocks"; FOP/WAR are option contracts, so they go with options.
ASSET_MARKETS = {
    "STK": "stocks", "OPT": "options", "FOP": "options", "WAR": "options", "IOPT": "options",
    "FUT": "futures", "CASH": "forex", "CFD": "cfd", "CMDTY": "commodities", "CRYPTO": "spot",
}
# EquitySummaryByReportDateInBase columns that value one of our markets. Cash stays in AccountState.cash;
# futures have no column because they settle into cash daily.
EQUITY_COLUMNS = {"stock": "stocks", "options": "options", "commodities": "commodities", "crypto": "spot"}
# A statement whose newest NAV row is older than this is answering a mis-configured query period.
MAX_STALENESS = timedelta(days=7)


class FlexParseError(MalformedResponse):
    """The XML is not a Flex document we understand (or lacks a section we need)."""


@dataclass(frozen=True)
class ServiceResponse:
    """`<FlexStatementResponse>`: Status Success/Fail/Warn, then a reference code or an error."""

    status: str
    error_code: str | None = None
    error_message: str = ""
    reference_code: str | None = None
    url: str | None = None


@dataclass
class DayEquity:
    total: Decimal = ZERO
    cash: Decimal | None = None  # None: the NAV row has no cash column
    markets: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))


@dataclass(frozen=True)
class FlexTrade:
    day: date
    market: str
    notional: Decimal  # USD, multiplier included
    fee: Decimal  # USD, positive = cost


@dataclass
class FlexData:
    """One GetStatement payload, reduced to what daily aggregates need (all USD).

    Flows are dated as the statement dates the NAV they move: by their report date, and a flow reported on
    a day without a NAV row (weekend, holiday) moves the next NAV row (`flow_nav_day`)."""

    equity: dict[date, DayEquity] = field(default_factory=dict)
    # Days whose unrealized P&L the statement states: the report dates of Open Positions sections (an
    # empty section states 0). Days missing here are unknown, not 0.
    unrealized: dict[date, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    trades: list[FlexTrade] = field(default_factory=list)
    flows: list[tuple[date, Decimal]] = field(default_factory=list)  # (report date, +deposit / -withdrawal)
    unvalued_transfers: list[date] = field(default_factory=list)  # report dates of transfers without a value
    to_date: date | None = None  # the newest toDate of the statements: the last day they cover

    def nav_days(self) -> list[date]:
        return sorted(self.equity)

    def flow_nav_day(self, reported: date) -> date | None:
        """The first NAV row on or after a flow's report date: the balance that reflects it. None while
        that row is not in the statement yet (a flow after the newest NAV row waits for the next one)."""
        return min((d for d in self.equity if d >= reported), default=None)

    def is_closed(self, day: date) -> bool:
        """A day the broker does not value: a weekend, or a weekday without a NAV row between two NAV rows
        (a market holiday). A weekday after the newest NAV row may just not be valued yet: not closed."""
        if day in self.equity:
            return False
        return day.weekday() >= 5 or (bool(self.equity) and day < max(self.equity))


# ---------------------------------------------------------------------------------------------- parsing


def strip_bom(body: bytes) -> bytes:
    return body[len(UTF8_BOM):] if body.startswith(UTF8_BOM) else body


def is_statement(body: bytes) -> bool:
    """Cheap check on the head only: a ready statement vs. the small status envelope."""
    return b"<FlexQueryResponse" in strip_bom(body)[:2048]


def _root(body: bytes) -> Element:
    try:
        root: Element = SafeET.fromstring(strip_bom(body).lstrip())
    except SafeET.ParseError:
        raise FlexParseError("IBKR Flex returned XML that does not parse") from None
    except Exception as exc:  # defusedxml refuses entities/DTDs: a hostile or broken document
        raise FlexParseError(f"IBKR Flex sent an unsafe XML document ({exc.__class__.__name__})") from None
    return root


def parse_service_response(body: bytes) -> ServiceResponse:
    root = _root(body)
    if root.tag != "FlexStatementResponse":
        raise FlexParseError(f"unexpected IBKR Flex response element <{root.tag[:40]}>")

    def text(tag: str) -> str | None:
        node = root.find(tag)
        return node.text.strip() if node is not None and node.text else None

    return ServiceResponse(
        status=text("Status") or "", error_code=text("ErrorCode"), error_message=text("ErrorMessage") or "",
        reference_code=text("ReferenceCode"), url=text("Url"),
    )


_DATE_PATTERNS = (
    (re.compile(r"^(\d{4})(\d{2})(\d{2})"), (1, 2, 3)),  # 20250115 (IB default)
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})"), (1, 2, 3)),  # 2025-01-15
    (re.compile(r"^(\d{2})/(\d{2})/(\d{4})"), (3, 1, 2)),  # 01/15/2025 (US format option)
)


def parse_flex_date(value: str | None) -> date | None:
    """Flex date formats are per-query settings; the time part (after ';', ',' or ' ') is ignored."""
    if not value:
        return None
    for pattern, (y, m, d) in _DATE_PATTERNS:
        match = pattern.match(value.strip())
        if match:
            try:
                return date(int(match.group(y)), int(match.group(m)), int(match.group(d)))
            except ValueError:
                return None
    return None


def _num(el: Element, *names: str) -> Decimal:
    for name in names:
        raw = el.get(name)
        if raw not in (None, ""):
            try:
                return to_decimal(raw)
            except ValueError:
                raise FlexParseError(f"IBKR Flex attribute {name} is not a number") from None
    return ZERO


def _fx(el: Element) -> Decimal:
    rate = _num(el, "fxRateToBase")
    return rate if rate else ONE


class _Statement:
    """One <FlexStatement>: knows its base currency and how to turn base amounts into USD."""

    def __init__(self, node: Element) -> None:
        self.node = node
        info = node.find("AccountInformation")
        self.base = ((info.get("currency") if info is not None else None) or self._summary_currency()).upper()
        self.to_date = parse_flex_date(node.get("toDate"))
        # fromCurrency -> [(day, rate to base)]; used for base->USD and for commission currencies.
        self.rates: dict[str, list[tuple[date | None, Decimal]]] = defaultdict(list)
        for rate in node.iter("ConversionRate"):
            self.rates[(rate.get("fromCurrency") or "").upper()].append(
                (parse_flex_date(rate.get("reportDate")), _num(rate, "rate")))

    def _summary_currency(self) -> str:
        row = next(self.node.iter("EquitySummaryByReportDateInBase"), None)
        return (row.get("currency") if row is not None else None) or "USD"

    def rate_to_base(self, currency: str, day: date | None) -> Decimal | None:
        if currency.upper() == self.base:
            return ONE
        candidates = [(d, r) for d, r in self.rates.get(currency.upper(), []) if r]
        if not candidates:
            return None
        dated = sorted((d, r) for d, r in candidates if d is not None and (day is None or d <= day))
        return dated[-1][1] if dated else candidates[0][1]

    def usd(self, day: date | None) -> Decimal:
        """Multiplier base -> USD. A non-USD base needs the USD row of ConversionRates."""
        if self.base == "USD":
            return ONE
        usd_in_base = self.rate_to_base("USD", day)
        if not usd_in_base:
            raise FlexParseError(
                f"account base currency is {self.base[:3]} but the statement has no USD conversion rate; "
                "add 'Conversion Rates' to the Flex query")
        return ONE / usd_in_base


def parse_statement(body: bytes) -> FlexData:
    root = _root(body)
    if root.tag != "FlexQueryResponse":
        raise FlexParseError(f"unexpected IBKR Flex statement element <{root.tag[:40]}>")
    data = FlexData()
    seen_rows: set[tuple[str, date]] = set()
    for node in root.iter("FlexStatement"):
        stmt = _Statement(node)
        if stmt.to_date is not None and (data.to_date is None or stmt.to_date > data.to_date):
            data.to_date = stmt.to_date
        _parse_equity(stmt, data, seen_rows)
        _parse_positions(stmt, data)
        _parse_trades(stmt, data)
        _parse_flows(stmt, data)
        _parse_transfers(stmt, data)
    return data


def _parse_equity(stmt: _Statement, data: FlexData, seen: set[tuple[str, date]]) -> None:
    for row in stmt.node.iter("EquitySummaryByReportDateInBase"):
        day = parse_flex_date(row.get("reportDate"))
        if day is None:
            continue
        key = (row.get("accountId") or "", day)
        if key in seen:  # backfill responses repeat rows across overlapping statements
            continue
        seen.add(key)
        usd = stmt.usd(day)
        bucket = data.equity.setdefault(day, DayEquity())
        bucket.total += _num(row, "total") * usd
        if row.get("cash") not in (None, ""):
            bucket.cash = (bucket.cash or ZERO) + _num(row, "cash") * usd
        for column, market in EQUITY_COLUMNS.items():
            value = _num(row, column) * usd
            if value:
                bucket.markets[market] += value


def _parse_positions(stmt: _Statement, data: FlexData) -> None:
    section = stmt.node.find("OpenPositions")
    if section is None:
        return  # the query has no Open Positions: unrealized P&L is unknown
    if section.find("OpenPosition") is None:  # a section without rows states "no open positions"
        navs = [parse_flex_date(row.get("reportDate")) for row in stmt.node.iter("EquitySummaryByReportDateInBase")]
        last = max((d for d in navs if d is not None), default=stmt.to_date)
        if last is not None:
            data.unrealized[last] += ZERO
    for pos in section.iter("OpenPosition"):
        if (pos.get("levelOfDetail") or "SUMMARY").upper() != "SUMMARY":
            continue  # LOT rows repeat the SUMMARY row's P&L
        day = parse_flex_date(pos.get("reportDate")) or stmt.to_date
        if day is None:
            continue
        data.unrealized[day] += _num(pos, "fifoPnlUnrealized") * _fx(pos) * stmt.usd(day)


def _pick_trade_rows(stmt: _Statement) -> list[Element]:
    """Execution rows if the query has them, else order rows; summaries would double count."""
    by_level: dict[str, list[Element]] = defaultdict(list)
    for trade in stmt.node.iter("Trade"):
        by_level[(trade.get("levelOfDetail") or "EXECUTION").upper()].append(trade)
    return by_level.get("EXECUTION") or by_level.get("ORDER") or []


def _parse_trades(stmt: _Statement, data: FlexData) -> None:
    for trade in _pick_trade_rows(stmt):
        day = (parse_flex_date(trade.get("tradeDate")) or parse_flex_date(trade.get("dateTime"))
               or parse_flex_date(trade.get("reportDate")))
        if day is None:
            continue
        fx, usd = _fx(trade), stmt.usd(day)
        notional = abs(_num(trade, "tradeMoney"))
        if not notional:  # tradeMoney already includes the multiplier; rebuild it when absent
            multiplier = _num(trade, "multiplier") or ONE
            notional = abs(_num(trade, "quantity") * _num(trade, "tradePrice", "price") * multiplier)
        market = ASSET_MARKETS.get((trade.get("assetCategory") or "STK").upper(), "stocks")
        data.trades.append(FlexTrade(day, market, notional * fx * usd, _commission(stmt, trade, day) * usd))


def _commission(stmt: _Statement, trade: Element, day: date) -> Decimal:
    fee = abs(_num(trade, "ibCommission"))
    if not fee:
        return ZERO
    currency = (trade.get("ibCommissionCurrency") or "").upper()
    if not currency or currency == (trade.get("currency") or "").upper():
        return fee * _fx(trade)
    rate = stmt.rate_to_base(currency, day)
    return fee * (rate if rate is not None else _fx(trade))


def is_external_flow(tx_type: str) -> bool:
    """Only money moved in or out by the owner is a flow. Dividends, interest, withholding tax and fees
    are income/costs of the invested capital: they must stay inside the return, so they are NOT flows."""
    kind = tx_type.lower()
    return "deposit" in kind or "withdraw" in kind


def _parse_flows(stmt: _Statement, data: FlexData) -> None:
    section = stmt.node.find("CashTransactions")
    if section is None:
        _flows_from_nav(stmt, data)
        return
    for tx in section.iter("CashTransaction"):
        summary = "SUMMARY" in ((tx.get("currency") or "") + (tx.get("levelOfDetail") or "")).upper()
        if summary:
            continue
        if not is_external_flow(tx.get("type") or ""):
            continue
        # The report date is the statement's date for the NAV the flow moves; dateTime is when it was
        # booked, which may be a day earlier (and moves no NAV row of that day).
        day = parse_flex_date(tx.get("reportDate")) or parse_flex_date(tx.get("dateTime")) or parse_flex_date(
            tx.get("date"))
        if day is not None:
            data.flows.append((day, _num(tx, "amount") * _fx(tx) * stmt.usd(day)))


def _parse_transfers(stmt: _Statement, data: FlexData) -> None:
    """The Transfers section: positions and cash moved in or out of this account from another (ACATS,
    ATON, FOP, DVP, INTERNAL between IB accounts). External to this account, so flows like a deposit:
    a position at its value in base (positionAmountInBase, else positionAmount x fxRateToBase), cash at
    cashTransfer x fxRateToBase; IN adds, OUT removes. Dated by report date, like cash transactions."""
    for row in stmt.node.iter("Transfer"):
        direction = (row.get("direction") or "").upper()
        if direction not in ("IN", "OUT"):
            continue
        day = parse_flex_date(row.get("reportDate")) or parse_flex_date(row.get("date"))
        if day is None:
            continue
        if row.get("positionAmountInBase") not in (None, ""):
            value = _num(row, "positionAmountInBase")
        elif row.get("positionAmount") not in (None, ""):
            value = _num(row, "positionAmount") * _fx(row)
        else:
            value = _num(row, "cashTransfer") * _fx(row)
        if not value:  # a position moved without a stated value: the day's flows are not known
            data.unvalued_transfers.append(day)
            continue
        value = abs(value) * stmt.usd(day)
        data.flows.append((day, value if direction == "IN" else -value))


def _flows_from_nav(stmt: _Statement, data: FlexData) -> None:
    """Fallback when the query has no Cash Transactions: a one-day ChangeInNAV carries the net flow."""
    for nav in stmt.node.iter("ChangeInNAV"):
        start, end = parse_flex_date(nav.get("fromDate")), parse_flex_date(nav.get("toDate"))
        amount = _num(nav, "depositsWithdrawals")
        if start is not None and start == end and amount:
            data.flows.append((start, amount * stmt.usd(start)))


# ------------------------------------------------------------------------------------------ aggregation


def account_state(data: FlexData, first_day: date, last_day: date) -> AccountState:
    """The window's days are [first_day, last_day] (empty when last_day < first_day, e.g. the initial
    snapshot). Equity is the last NAV row on or before last_day; trades are those dated in the window.

    Flows: those whose NAV row (`flow_nav_day`) is newer than the NAV row the previous window showed
    (the last one on or before first_day - 1) and not newer than this window's. So a flow lands in the
    row whose equity first reflects it — a weekend deposit in Monday's row, not before — and in one row
    only."""
    days = [d for d in data.equity if d <= last_day]
    if not days:
        raise FlexParseError(
            f"the Flex statement has no NAV row on or before {last_day.isoformat()}; the query must include "
            "'Net Asset Value (NAV) in Base' and cover the last business day")
    as_of = max(days)
    if last_day - as_of > MAX_STALENESS:
        raise FlexParseError(
            f"the Flex statement ends on {as_of.isoformat()}, more than {MAX_STALENESS.days} days before "
            f"{last_day.isoformat()}; set the query period to include the last business day")
    row = data.equity[as_of]
    state = AccountState(total_equity=row.total, cash=row.cash if row.cash is not None else ZERO,
                         unrealized_pnl=data.unrealized.get(as_of, ZERO),
                         market_closed=as_of < last_day and data.is_closed(last_day),
                         cash_known=row.cash is not None, unrealized_known=as_of in data.unrealized)
    for market, value in row.markets.items():
        state.market(market).equity = value
    for trade in data.trades:
        if first_day <= trade.day <= last_day:
            _add_trade(state.market(trade.market), trade)
    previous = max((d for d in data.equity if d < first_day), default=None)
    for reported, amount in data.flows:
        nav_day = data.flow_nav_day(reported)
        if nav_day is None or nav_day > as_of or (previous is not None and nav_day <= previous):
            continue
        if previous is None and reported < first_day:
            continue  # before the statement's first NAV row: already inside that equity
        _add_flow(state, amount)
    for reported in data.unvalued_transfers:
        nav_day = data.flow_nav_day(reported)
        if nav_day is not None and nav_day <= as_of and (previous is None or nav_day > previous):
            state.flows_known = False
    return state


def _add_trade(stats: MarketStats, trade: FlexTrade) -> None:
    stats.trades += 1
    stats.volume += trade.notional
    stats.fees += trade.fee


def _add_flow(target: AccountState | EquityPoint, amount: Decimal) -> None:
    if amount > 0:
        target.deposits += amount
    else:
        target.withdrawals -= amount


def history(data: FlexData, days: int) -> list[EquityPoint]:
    """One point per calendar day for backfill: the last `days` days of the statement (counted back from
    its newest NAV row, since the query decides the period) up to the last day it covers. Leading
    zero-equity days (account not yet funded) are dropped.

    A NAV day's point has that row's equity, cash and market values, its unrealized P&L where the
    statement states it (else None), its trades, and the flows whose NAV row it is. A day the statement
    does not value (weekend, holiday) carries the previous NAV day's figures forward, marked
    market_closed, with no flow; a flow reported on it moves the next NAV row. The first point's own flows
    are kept (analytics treats that equity as the start); earlier flows are inside it."""
    if not data.equity:
        return []
    newest = max(data.equity)
    dated = [d for d in data.nav_days() if d > newest - timedelta(days=days)]
    while dated and not data.equity[dated[0]].total:
        dated.pop(0)
    if not dated:
        return []
    last = max(newest, data.to_date or newest)
    points: dict[date, EquityPoint] = {}
    valued: EquityPoint | None = None
    day = dated[0]
    while day <= last:
        if day in data.equity:
            valued = _nav_point(data, day)
            points[day] = valued
        elif day > newest and not data.is_closed(day):
            break  # a weekday not valued yet: what follows it is not known either
        elif valued is not None and data.is_closed(day):
            points[day] = EquityPoint(day=day, total_equity=valued.total_equity, cash=valued.cash,
                                      unrealized_pnl=valued.unrealized_pnl, market_closed=True,
                                      markets={m: MarketStats(equity=s.equity) for m, s in valued.markets.items()})
        day += timedelta(days=1)
    for trade in data.trades:
        if trade.day in points:
            _add_trade(points[trade.day].market(trade.market), trade)
    for reported, amount in data.flows:
        nav_day = data.flow_nav_day(reported)
        if nav_day is not None and nav_day in points:
            _add_flow(points[nav_day], amount)
    for reported in data.unvalued_transfers:
        nav_day = data.flow_nav_day(reported)
        if nav_day is not None and nav_day in points:
            points[nav_day].flows_known = False
    return sorted(points.values(), key=lambda p: p.day)


def _nav_point(data: FlexData, day: date) -> EquityPoint:
    row = data.equity[day]
    point = EquityPoint(day=day, total_equity=row.total, cash=row.cash, unrealized_pnl=data.unrealized.get(day))
    for market, value in row.markets.items():
        point.market(market).equity = value
    return point
