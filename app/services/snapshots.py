"""Daily snapshots: which day a row is, building rows from connector output, reading them back.

Day semantics (also in the README). A snapshot row's `day` is the UTC day whose **close** it records:

- the scheduled run at D 00:00 UTC writes `day = D-1` (the balance at 00:00 on D is the close of D-1);
- the initial snapshot taken while connecting at some time t on day T is the account's opening balance
  for T, i.e. the close of T-1: `day = T-1`, fetched over the empty window [t, t) (no flows or volume);
- IBKR backfill rows carry the statement's report date (the close of that day).

Windows are chained on real fetch instants: a snapshot's `taken_at` is the instant its balance was
fetched, and the next scheduled window runs from there to the next fetch, [previous taken_at, now).
An on-time run therefore covers [D-1 00:00, D 00:00) give or take seconds; a late run's window ends
at its fetch (its balance's instant), and after missed runs one window spans the whole gap, so a
deposit on a missed day is a flow of the next row rather than profit. Nothing is counted twice or
lost. Only a connection's first scheduled row, with nothing before it, starts at `day` 00:00.

So `day` is always "equity at the end of this day", which is what daily returns need, and one
connection never has two rows for a day (unique (connection_id, day)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.connectors.base import AccountState, DayWindow, EquityPoint
from app.core.money import ZERO, to_decimal
from app.errors import BadRequest
from app.models import ExchangeConnection, Snapshot

MAX_RANGE = timedelta(days=5 * 365 + 2)  # five years, leap days included
DEFAULT_RANGE = timedelta(days=365)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def scheduled_day(run_at: datetime) -> date:
    """The day a run at `run_at` closes: a run at D 00:00 UTC (or a late one during D) writes D-1."""
    return run_at.astimezone(UTC).date() - timedelta(days=1)


def day_window(day: date) -> DayWindow:
    return DayWindow(midnight(day), midnight(day + timedelta(days=1)))


def initial_day(now: datetime) -> date:
    """A connection made on day T records its opening balance as the close of T-1."""
    return now.astimezone(UTC).date() - timedelta(days=1)


def initial_window(now: datetime) -> DayWindow:
    return DayWindow(now, now)


def scheduled_window(day: date, previous: Snapshot | None, fetched_at: datetime) -> DayWindow:
    """[previous taken_at, fetched_at): from where the last observation ended to this fetch's instant.

    With no previous row the window starts at `day` 00:00. If clocks disagree (a previous taken_at
    after this fetch) the window is empty at the previous instant, so the chain neither overlaps nor
    leaves a gap; the caller stores `window.end` as the row's taken_at.
    """
    start = as_utc(previous.taken_at) if previous is not None else midnight(day)
    return DayWindow(start, max(start, fetched_at.astimezone(UTC)))


def build_snapshot(
    conn: ExchangeConnection, *, day: date, trigger: str, state: AccountState, taken_at: datetime
) -> Snapshot:
    assert conn.id is not None
    state.check_flows()  # a negative deposit/withdrawal is never written
    return Snapshot(
        user_uid=conn.user_uid, connection_id=conn.id, exchange=conn.exchange, label=conn.label, day=day,
        taken_at=taken_at, trigger=trigger, total_equity=state.total_equity,
        cash=state.cash if state.cash_known else None,
        unrealized_pnl=state.unrealized_pnl if state.unrealized_known else None,
        deposits=state.deposits, withdrawals=state.withdrawals,
        breakdown=state.breakdown(),
    )


def with_history_of_day(state: AccountState, points: Sequence[EquityPoint], day: date) -> AccountState:
    """The initial snapshot records the close of `day` (the day before connecting), read over the empty
    window [t, t): no flows. The backfill rows stop before `day`, so when the venue's history has that
    day, its deposits, withdrawals and trading belong to this row; left out, a deposit made that day
    would read as profit."""
    point = next((p for p in points if p.day == day), None)
    if point is None:
        return state
    markets = {name: replace(stats) for name, stats in state.markets.items()}
    merged = replace(state, deposits=state.deposits + point.deposits,
                     withdrawals=state.withdrawals + point.withdrawals, markets=markets)
    for name, stats in point.markets.items():
        target = merged.market(name)
        target.trades += stats.trades
        target.volume += stats.volume
        target.fees += stats.fees
        target.funding += stats.funding
    return merged


def build_backfill(
    conn: ExchangeConnection, points: Sequence[EquityPoint], *, taken_at: datetime, before: date
) -> list[Snapshot]:
    """One row per historical point strictly before `before` (the days the live snapshots cover), with what
    the history has: cash and unrealized P&L stay None (unknown) where it lacks them."""
    assert conn.id is not None
    for p in points:
        p.check_flows()
    return [
        Snapshot(
            user_uid=conn.user_uid, connection_id=conn.id, exchange=conn.exchange, label=conn.label, day=p.day,
            taken_at=taken_at, trigger="backfill", total_equity=p.total_equity, cash=p.cash,
            unrealized_pnl=p.unrealized_pnl, deposits=p.deposits, withdrawals=p.withdrawals,
            breakdown=p.breakdown(),
        )
        for p in points
        if p.day < before
    ]


# -- reading ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @classmethod
    def parse(cls, start: date | None, end: date | None, *, today: date) -> Period:
        """Both bounds inclusive. Defaults: end = today, start = end - 365 days."""
        end = end or today
        start = start or end - DEFAULT_RANGE
        if start >= end:
            raise BadRequest("start_date must be before end_date", code="invalid_date_range")
        if end - start > MAX_RANGE:
            raise BadRequest("the date range may span at most 5 years", code="invalid_date_range")
        return cls(start, end)


async def list_snapshots(
    session: AsyncSession, *, user_uid: str, period: Period, exchange: str | None = None,
    connection_id: int | None = None,
) -> Sequence[Snapshot]:
    query = select(Snapshot).where(
        Snapshot.user_uid == user_uid, col(Snapshot.day) >= period.start, col(Snapshot.day) <= period.end
    )
    if exchange is not None:
        query = query.where(Snapshot.exchange == exchange)
    if connection_id is not None:
        query = query.where(Snapshot.connection_id == connection_id)
    result = await session.exec(query.order_by(col(Snapshot.day), col(Snapshot.connection_id)))
    return result.all()


async def last_snapshots(session: AsyncSession, connection_ids: Sequence[int]) -> dict[int, Snapshot]:
    """The newest snapshot of each connection."""
    if not connection_ids:
        return {}
    newest = (
        select(Snapshot.connection_id, func.max(Snapshot.day).label("day"))
        .where(col(Snapshot.connection_id).in_(connection_ids))
        .group_by(col(Snapshot.connection_id))
        .subquery()
    )
    query = select(Snapshot).join(
        newest, (col(Snapshot.connection_id) == newest.c.connection_id) & (col(Snapshot.day) == newest.c.day)
    )
    return {s.connection_id: s for s in (await session.exec(query)).all()}


async def aggregated_metrics(
    session: AsyncSession, *, user_uid: str, period: Period, exchange: str | None = None
) -> dict[str, Any]:
    """Totals over the period for the connections included in reports (exclude_from_report honoured).

    Equity, cash and unrealized PnL: each connection's latest row in the period, summed; cash and
    unrealized PnL are null when a latest row does not know them (a backfilled day whose statement
    lacks them), and `unknown` names the connections. Flows and activity (trades, volume, fees,
    funding by market): summed over every row in the period.
    """
    rows = await list_snapshots(session, user_uid=user_uid, period=period, exchange=exchange)
    excluded = set(
        (await session.exec(
            select(ExchangeConnection.id).where(
                ExchangeConnection.user_uid == user_uid, col(ExchangeConnection.exclude_from_report)
            )
        )).all()
    )
    included = [r for r in rows if r.connection_id not in excluded]
    latest: dict[int, Snapshot] = {}
    for row in included:
        latest[row.connection_id] = row  # rows are ordered by day
    markets: dict[str, dict[str, Decimal]] = {}
    for row in included:
        _add_markets(markets, row.breakdown)
    days = sorted({r.day for r in included})
    return {
        "start_date": period.start, "end_date": period.end,
        "connections": len(latest),
        "excluded_connections": len({r.connection_id for r in rows if r.connection_id in excluded}),
        "total_equity": _sum(r.total_equity for r in latest.values()),
        "cash": _sum_known(r.cash for r in latest.values()),
        "unrealized_pnl": _sum_known(r.unrealized_pnl for r in latest.values()),
        "unknown": {name: sorted(cid for cid, r in latest.items() if getattr(r, name) is None)
                    for name in ("cash", "unrealized_pnl") if any(getattr(r, name) is None for r in latest.values())},
        "deposits": _sum(r.deposits for r in included),
        "withdrawals": _sum(r.withdrawals for r in included),
        "trades": int(sum(m["trades"] for m in markets.values())),
        "volume": _sum(m["volume"] for m in markets.values()),
        "fees": _sum(m["fees"] for m in markets.values()),
        "funding": _sum(m["funding"] for m in markets.values()),
        "by_market": {name: _market_json(m) for name, m in sorted(markets.items())},
        "days_with_snapshots": len(days),
        "first_day": days[0] if days else None,
        "last_day": days[-1] if days else None,
    }


def _add_markets(markets: dict[str, dict[str, Decimal]], breakdown: dict[str, Any]) -> None:
    for name, stats in breakdown.items():
        if not isinstance(stats, dict) or "trades" not in stats:
            continue  # e.g. unpriced_assets, flows_unavailable
        total = markets.setdefault(name, dict.fromkeys(("trades", "volume", "fees", "funding"), ZERO))
        for key in total:
            total[key] += to_decimal(stats.get(key))


def _market_json(m: dict[str, Decimal]) -> dict[str, Any]:
    return {"trades": int(m["trades"]), "volume": _money(m["volume"]), "fees": _money(m["fees"]),
            "funding": _money(m["funding"])}


def _sum(values: Any) -> str:
    return _money(sum((to_decimal(v) for v in values), ZERO))


def _sum_known(values: Any) -> str | None:
    """A sum that is null as soon as one term is unknown (a partial sum would pass for the whole)."""
    terms = list(values)
    return None if any(v is None for v in terms) else _sum(terms)


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.00000001')):f}"


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored timestamp is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
