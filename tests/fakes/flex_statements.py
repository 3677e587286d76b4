"""Activity Flex statements written for scenarios the replayed fixtures do not cover (weekends, flows
reported on another day than they were booked, a flow after the newest NAV row, a query without Open
Positions for every day).

The layout follows IB's Activity Flex XML as the real fixtures in tests/data/fixtures/ibkr show it:
`FlexQueryResponse > FlexStatements > FlexStatement(fromDate, toDate, period, whenGenerated)` with
`AccountInformation(currency)`, `EquitySummaryInBase > EquitySummaryByReportDateInBase(reportDate, cash,
stock, options, commodities, total)` for business days only, `OpenPositions > OpenPosition(reportDate,
fifoPnlUnrealized, fxRateToBase, levelOfDetail)` for the statement's last NAV day, and
`CashTransactions > CashTransaction(type "Deposits/Withdrawals", amount, currency, fxRateToBase,
dateTime "YYYYMMDD;HHMMSS", reportDate)` and `Transfers > Transfer(type, direction IN/OUT,
assetCategory, quantity, positionAmountInBase | cashTransfer, currency, fxRateToBase, reportDate, date)`
(the attribute names of IB's Transfers section, as the ibflex library's Transfer type lists them), and
`ConversionRates > ConversionRate(reportDate, fromCurrency, toCurrency, rate)`.
Dates are IB's default yyyyMMdd. Values are ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from xml.sax.saxutils import quoteattr

ACCOUNT = "U7654321"


@dataclass(frozen=True)
class Nav:
    day: date
    total: str
    cash: str | None = None  # None: the row has no cash column
    stock: str = "0"
    options: str = "0"


@dataclass(frozen=True)
class Flow:
    amount: str  # + deposit, - withdrawal, in `currency`
    booked: str  # dateTime, e.g. "20250304;153000"
    reported: date
    currency: str = "USD"
    fx_rate_to_base: str = "1"
    kind: str = "Deposits/Withdrawals"


@dataclass(frozen=True)
class Transfer:
    """A Transfers-section row: a position or cash moved in or out from another account."""

    kind: str  # ACATS, ATON, FOP, DVP, INTERNAL
    direction: str  # IN / OUT
    reported: date
    asset_category: str = "STK"
    symbol: str = ""
    quantity: str = "0"
    position_amount_in_base: str | None = None
    cash_transfer: str | None = None
    currency: str = "USD"
    fx_rate_to_base: str = "1"


@dataclass
class Statement:
    from_date: date
    to_date: date
    navs: list[Nav]
    flows: list[Flow] = field(default_factory=list)
    unrealized: str | None = None  # fifoPnlUnrealized of one position on the last NAV day; None: no section
    base: str = "USD"
    transfers: list[Transfer] = field(default_factory=list)
    usd_rate: str | None = None  # ConversionRate USD -> base on the last NAV day (a non-USD base needs it)


def _d(day: date) -> str:
    return day.strftime("%Y%m%d")


def _element(tag: str, **values: str) -> str:
    attrs = " ".join(f"{name}={quoteattr(value)}" for name, value in values.items())
    return f"<{tag} {attrs} />"


def render(stmt: Statement) -> bytes:
    head = _element("FlexStatement", accountId=ACCOUNT, fromDate=_d(stmt.from_date), toDate=_d(stmt.to_date),
                    period="LastNCalendarDays", whenGenerated=_d(stmt.to_date) + ";235900")
    lines = [
        '<FlexQueryResponse queryName="zka scenario" type="AF">',
        '<FlexStatements count="1">',
        head.removesuffix(" />") + ">",
        _element("AccountInformation", accountId=ACCOUNT, currency=stmt.base, name="Scenario"),
        "<EquitySummaryInBase>",
    ]
    for nav in stmt.navs:
        cash = {"cash": nav.cash} if nav.cash is not None else {}
        lines.append(_element("EquitySummaryByReportDateInBase", accountId=ACCOUNT, currency=stmt.base,
                              reportDate=_d(nav.day), **cash, stock=nav.stock, options=nav.options,
                              commodities="0", total=nav.total))
    lines.append("</EquitySummaryInBase>")
    if stmt.unrealized is not None:
        lines += ["<OpenPositions>",
                  _element("OpenPosition", accountId=ACCOUNT, currency=stmt.base, fxRateToBase="1",
                           assetCategory="STK", symbol="AAPL", reportDate=_d(stmt.navs[-1].day), position="100",
                           fifoPnlUnrealized=stmt.unrealized, levelOfDetail="SUMMARY"),
                  "</OpenPositions>"]
    lines.append("<CashTransactions>")
    for flow in stmt.flows:
        lines.append(_element("CashTransaction", accountId=ACCOUNT, currency=flow.currency,
                              fxRateToBase=flow.fx_rate_to_base, type=flow.kind, amount=flow.amount,
                              dateTime=flow.booked, reportDate=_d(flow.reported), description="CASH TRANSFER"))
    lines += ["</CashTransactions>", "<Transfers>"]
    for t in stmt.transfers:
        amounts = {k: v for k, v in (("positionAmountInBase", t.position_amount_in_base),
                                     ("cashTransfer", t.cash_transfer)) if v is not None}
        lines.append(_element("Transfer", accountId=ACCOUNT, type=t.kind, direction=t.direction,
                              assetCategory=t.asset_category, currency=t.currency, fxRateToBase=t.fx_rate_to_base,
                              symbol=t.symbol, reportDate=_d(t.reported), date=_d(t.reported), quantity=t.quantity,
                              **amounts))
    lines.append("</Transfers>")
    if stmt.usd_rate is not None:
        lines += ["<ConversionRates>",
                  _element("ConversionRate", reportDate=_d(stmt.navs[-1].day), fromCurrency="USD",
                           toCurrency=stmt.base, rate=stmt.usd_rate),
                  "</ConversionRates>"]
    lines += ["</FlexStatement>", "</FlexStatements>", "</FlexQueryResponse>"]
    return "\n".join(lines).encode()
