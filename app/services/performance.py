"""A user's snapshots for a period → analytics input (SPEC §9). Shared by /metrics/performance and
reports. Connections excluded from reports are left out everywhere; a snapshot's `day` is the UTC
day whose close it holds, and a period [start, end] includes both days."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Float, cast, func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.connectors.base import FLOWS_UNAVAILABLE, LATE_FLOWS, MARKET_CLOSED
from app.connectors.registry import SUPPORTED_VENUES
from app.errors import BadRequest, NotFound
from app.models import ExchangeConnection, Snapshot
from app.services.benchmark_cache import BenchmarkCache, check_symbol

MAX_YEARS = 5
PERMISSIONS_WARNING = ("These accounts' API keys were not proven unable to withdraw: their venue does not "
                       "report a key's permissions, so zka could not refuse a key that can move funds.")
FLOWS_WARNING = ("Returns for these accounts may include deposits/withdrawals: their venue does not report "
                 "external cash flows, so a transfer cannot be told apart from performance.")
LATE_FLOWS_WARNING = ("On these days an account had a deposit or withdrawal still pending that was dated before "
                      "the look-back of its next sync (6 or 30 days by venue): if it completed later it was "
                      "not seen, and the return from then on may include it.")


@dataclass(frozen=True)
class ConnectionInfo:
    id: int
    exchange: str
    is_paper: bool
    is_active: bool
    # the key's withdrawal right was not verified: the venue cannot report a key's permissions
    permissions_unknown: bool = False


@dataclass(frozen=True)
class SnapshotSet:
    start: date
    end: date
    rows: list[Any]  # (connection_id, day, total_equity, deposits, withdrawals) rows
    connections: list[ConnectionInfo]  # those with rows in the period
    # connection id -> snapshots in the period whose venue could not report deposits/withdrawals
    flows_unknown: dict[int, int] = field(default_factory=dict)
    # connection id -> days its venue did not value (market closed): rows carried forward, not gaps
    market_closed: dict[int, list[date]] = field(default_factory=dict)
    # connection id -> days whose sync saw a pending flow the next sync's look-back no longer reaches
    late_flows: dict[int, list[date]] = field(default_factory=dict)

    @property
    def still_active(self) -> set[int]:
        return {c.id for c in self.connections if c.is_active}

    def digest(self) -> str:
        """Fingerprint of the exact data a report is computed from (part of its dedup key)."""
        h = hashlib.sha256()
        for r in self.rows:
            h.update(f"{r.connection_id}|{r.day}|{r.total_equity}|{r.deposits}|{r.withdrawals}\n".encode())
        for c in self.connections:
            h.update(f"c{c.id}|{c.is_active}\n".encode())
        for cid, n in sorted(self.flows_unknown.items()):  # only when flagged: existing dedup keys unchanged
            h.update(f"f{cid}|{n}\n".encode())
        for c in self.connections:  # likewise: a report signed before this field existed is not reused
            if c.permissions_unknown:
                h.update(f"p{c.id}\n".encode())
        return h.hexdigest()


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def check_period(start: date | None, end: date | None) -> None:
    """Given bounds must be ordered and at most five years apart (400 otherwise)."""
    if start is not None and end is not None:
        if start >= end:
            raise BadRequest(f"start date {start} must be before end date {end}", code="invalid_period")
        if end > _add_years(start, MAX_YEARS):
            raise BadRequest(f"the period {start} to {end} is longer than {MAX_YEARS} years", code="invalid_period")


def check_exchange(exchange: str | None) -> None:
    if exchange is not None and exchange not in SUPPORTED_VENUES:
        raise BadRequest(f"unsupported exchange {exchange[:32]!r}; supported: {', '.join(SUPPORTED_VENUES)}",
                         code="unsupported_exchange")


def _scope(user_uid: str, exchange: str | None) -> list[Any]:
    conds = [col(Snapshot.user_uid) == user_uid, col(ExchangeConnection.user_uid) == user_uid,
             col(ExchangeConnection.exclude_from_report).is_(False)]
    if exchange is not None:
        conds.append(col(ExchangeConnection.exchange) == exchange)
    return conds


async def _bounds(session: AsyncSession, user_uid: str, exchange: str | None) -> tuple[date | None, date | None]:
    stmt = (select(func.min(Snapshot.day), func.max(Snapshot.day))
            .join(ExchangeConnection, col(ExchangeConnection.id) == col(Snapshot.connection_id))
            .where(*_scope(user_uid, exchange)))
    first, last = (await session.exec(stmt)).one()
    return first, last


async def resolve_period(
    session: AsyncSession, user_uid: str, *, start: date | None, end: date | None, exchange: str | None = None
) -> tuple[date, date]:
    """Missing bounds come from the data (the start at most five years before the end)."""
    check_period(start, end)
    first, last = await _bounds(session, user_uid, exchange)
    if first is None or last is None:
        raise NotFound("no snapshots yet for this user", code="no_snapshots")
    end = end or last
    start = start or max(first, _add_years(end, -MAX_YEARS))
    if start == end:
        raise BadRequest(f"only one day ({start}) with snapshots: a report needs two", code="insufficient_data")
    check_period(start, end)
    return start, end


async def load_snapshots(
    session: AsyncSession, user_uid: str, *, start: date | None, end: date | None, exchange: str | None = None
) -> SnapshotSet:
    check_exchange(exchange)
    start, end = await resolve_period(session, user_uid, start=start, end=end, exchange=exchange)
    # Money as float from the database: analytics work in float64 anyway (returns are ratios), and
    # converting 18,000 Decimals in Python cost a fifth of a 5-year report.
    stmt = (sa_select(col(Snapshot.connection_id), col(Snapshot.day),
                      *(cast(col(c), Float).label(c.key) for c in (Snapshot.total_equity, Snapshot.deposits,
                                                                   Snapshot.withdrawals)))
            .join(ExchangeConnection, col(ExchangeConnection.id) == col(Snapshot.connection_id))
            .where(*_scope(user_uid, exchange), col(Snapshot.day) >= start, col(Snapshot.day) <= end)
            .order_by(col(Snapshot.connection_id), col(Snapshot.day)))
    rows = list((await session.exec(stmt)).all())  # type: ignore[call-overload]  # 5 columns: beyond sqlmodel overloads
    if len({r.day for r in rows}) < 2:
        raise BadRequest(f"fewer than two days with snapshots between {start} and {end}",
                         code="insufficient_data")
    ids = {r.connection_id for r in rows}
    conns = await session.exec(select(ExchangeConnection).where(col(ExchangeConnection.id).in_(ids)))
    infos = sorted((ConnectionInfo(c.id, c.exchange, c.is_paper, c.is_active, not_proven_read_only(c.permissions))
                    for c in conns.all() if c.id is not None), key=lambda c: c.id)
    flows = await _flows_unknown(session, user_uid, exchange, start, end)
    closed = await _market_closed(session, user_uid, exchange, start, end)
    late = await _late_flows(session, user_uid, exchange, start, end)
    return SnapshotSet(start, end, rows, infos, flows, closed, late)


async def _flows_unknown(
    session: AsyncSession, user_uid: str, exchange: str | None, start: date, end: date
) -> dict[int, int]:
    """Connections whose snapshots carry the breakdown flag `flows_unavailable` (the venue could not
    report deposits/withdrawals), with how many such snapshots. A separate query so the rows feeding
    the analytics stay the five plain columns; JSON path access works on SQLite and PostgreSQL."""
    flagged = col(Snapshot.breakdown)[FLOWS_UNAVAILABLE].as_boolean()
    stmt = (sa_select(col(Snapshot.connection_id), func.count())
            .join(ExchangeConnection, col(ExchangeConnection.id) == col(Snapshot.connection_id))
            .where(*_scope(user_uid, exchange), col(Snapshot.day) >= start, col(Snapshot.day) <= end,
                   flagged.is_(True))
            .group_by(col(Snapshot.connection_id)))
    return {cid: int(n) for cid, n in (await session.exec(stmt)).all()}  # type: ignore[call-overload]


async def _market_closed(
    session: AsyncSession, user_uid: str, exchange: str | None, start: date, end: date
) -> dict[int, list[date]]:
    """Days whose rows carry the breakdown flag `market_closed` (a stock broker's weekends and holidays)."""
    flagged = col(Snapshot.breakdown)[MARKET_CLOSED].as_boolean()
    stmt = (sa_select(col(Snapshot.connection_id), col(Snapshot.day))
            .join(ExchangeConnection, col(ExchangeConnection.id) == col(Snapshot.connection_id))
            .where(*_scope(user_uid, exchange), col(Snapshot.day) >= start, col(Snapshot.day) <= end,
                   flagged.is_(True))
            .order_by(col(Snapshot.connection_id), col(Snapshot.day)))
    out: dict[int, list[date]] = {}
    for cid, day in (await session.exec(stmt)).all():  # type: ignore[call-overload]
        out.setdefault(cid, []).append(day)
    return out


async def _late_flows(
    session: AsyncSession, user_uid: str, exchange: str | None, start: date, end: date
) -> dict[int, list[date]]:
    """Days whose rows carry the breakdown count `pending_flows_past_lookback` (LATE_FLOWS)."""
    flagged = col(Snapshot.breakdown)[LATE_FLOWS].as_integer()
    stmt = (sa_select(col(Snapshot.connection_id), col(Snapshot.day))
            .join(ExchangeConnection, col(ExchangeConnection.id) == col(Snapshot.connection_id))
            .where(*_scope(user_uid, exchange), col(Snapshot.day) >= start, col(Snapshot.day) <= end, flagged > 0)
            .order_by(col(Snapshot.connection_id), col(Snapshot.day)))
    out: dict[int, list[date]] = {}
    for cid, day in (await session.exec(stmt)).all():  # type: ignore[call-overload]
        out.setdefault(cid, []).append(day)
    return out


def coverage(data: SnapshotSet, analytics_coverage: dict[str, Any]) -> dict[str, Any]:
    """SPEC §8: expected days, snapshots present, gaps — over the requested period, not just the data span."""
    one = timedelta(days=1)
    first, last = date.fromisoformat(analytics_coverage["start"]), date.fromisoformat(analytics_coverage["end"])
    gaps = [list(g) for g in analytics_coverage["gaps"]]
    if first > data.start:
        gaps.insert(0, [data.start.isoformat(), (first - one).isoformat()])
    if last < data.end:
        gaps.append([(last + one).isoformat(), data.end.isoformat()])
    expected_days = (data.end - data.start).days + 1
    conns = analytics_coverage["connections"]
    expected_snapshots = sum(
        ((date.fromisoformat(c["last_day"]) if c["removed"] else data.end) - date.fromisoformat(c["first_day"])).days
        + 1 for c in conns)
    return {
        "period_start": data.start.isoformat(),
        "period_end": data.end.isoformat(),
        "expected_days": expected_days,
        "days_with_data": analytics_coverage["days_with_data"],
        "days_without_data": expected_days - analytics_coverage["days_with_data"],
        "snapshots": len(data.rows),
        "expected_snapshots": expected_snapshots,
        "missing_snapshots": expected_snapshots - len(data.rows),
        "gaps": gaps,
        "connections": conns,
        **flows_unknown(data),
        **permissions_unknown(data),
        "market_closed": market_closed(data),
        **late_flows(data),
    }


def market_closed(data: SnapshotSet) -> list[dict[str, Any]]:
    """Per account, the days its venue did not value (weekends, market holidays): they have a row that
    carries the last valued day forward without return, so they are data, not gaps."""
    venue = {c.id: c.exchange for c in data.connections}
    return [{"connection_id": cid, "exchange": venue.get(cid, "unknown"), "days": [d.isoformat() for d in days]}
            for cid, days in sorted(data.market_closed.items())]


def late_flows(data: SnapshotSet) -> dict[str, Any]:
    """Per account, the days whose sync saw a flow still pending that the next sync's look-back no longer
    reaches: a flow completing later than that is not counted, and a reader must know where it could be.
    Always present, so `[]` positively says "none"."""
    venue = {c.id: c.exchange for c in data.connections}
    listed = [{"connection_id": cid, "exchange": venue.get(cid, "unknown"), "days": [d.isoformat() for d in days]}
              for cid, days in sorted(data.late_flows.items())]
    return {"late_flows": listed, "late_flows_warning": LATE_FLOWS_WARNING if listed else None}


def flows_unknown(data: SnapshotSet) -> dict[str, Any]:
    """Accounts whose deposits/withdrawals are unknown (venue name + connection id, never the user's
    label), and the warning a reader needs. Always present, so `[]` positively says "all flows known"."""
    venue = {c.id: c.exchange for c in data.connections}
    listed = [{"connection_id": cid, "exchange": venue.get(cid, "unknown"), "snapshots": n}
              for cid, n in sorted(data.flows_unknown.items())]
    return {"flows_unknown": listed, "flows_warning": FLOWS_WARNING if listed else None}


def not_proven_read_only(permissions: list[str]) -> bool:
    """A stored key whose venue could not tell its permissions (`unknown`), or with none recorded."""
    return not permissions or "unknown" in permissions


def permissions_unknown(data: SnapshotSet) -> dict[str, Any]:
    """Accounts whose key was not proven unable to withdraw (venue + connection id, never the label).
    Always present, so `[]` positively says "every key was checked"."""
    listed = [{"connection_id": c.id, "exchange": c.exchange} for c in data.connections if c.permissions_unknown]
    return {"permissions_unknown": listed, "permissions_warning": PERMISSIONS_WARNING if listed else None}


def exchanges(data: SnapshotSet) -> list[dict[str, Any]]:
    """Venues in the report (no labels: those are the user's own names for accounts)."""
    out: dict[tuple[str, bool], int] = {}
    for c in data.connections:
        out[(c.exchange, c.is_paper)] = out.get((c.exchange, c.is_paper), 0) + 1
    return [{"exchange": e, "is_paper": p, "accounts": n} for (e, p), n in sorted(out.items())]


def analyse(data: SnapshotSet, symbol: str | None = None, closes: Mapping[date, Any] | None = None, *,
            daily_columns: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Every figure of /metrics/performance and of a report, from one place (CPU-bound: run it in a
    thread): the analytics, the coverage over the requested period, and the methodology they follow.
    Deposits/withdrawals count as unknown when any account in the period cannot report them."""
    from app.services.analytics import (  # numpy: loaded on first use, not at start-up
        AnalyticsOptions,
        analyse_snapshots,
        methodology,
    )

    o = AnalyticsOptions(daily_columns=daily_columns)
    a = analyse_snapshots(data.rows, still_active=data.still_active, benchmark_symbol=symbol,
                          benchmark_closes=closes, options=o, flows_unknown=bool(data.flows_unknown))
    a["coverage"] = coverage(data, a["coverage"])
    a["methodology"] = methodology(annualisation=o.annualisation, stale_after_days=o.stale_after_days,
                                   min_annualised_days=o.min_annualised_days)
    a["options"] = {"annualisation_factor": o.annualisation, "risk_free_per_day": o.risk_free}
    return a


async def performance_metrics(
    session: AsyncSession, *, user_uid: str, start: date | None, end: date | None, exchange: str | None,
    benchmark: str | None, benchmarks: BenchmarkCache,
) -> dict[str, Any]:
    """Unsigned analytics for the caller's dashboard (same figures as a report)."""
    if benchmark is not None:
        check_symbol(benchmark)
    data = await load_snapshots(session, user_uid, start=start, end=end, exchange=exchange)
    bench = await benchmarks.series(session, benchmark, data.start, data.end) if benchmark else None
    closes = bench.closes if bench is not None and bench.available else None
    a = await asyncio.to_thread(analyse, data, benchmark if closes else None, closes)
    a.pop("options")
    return {"period_start": data.start.isoformat(), "period_end": data.end.isoformat(), "exchange": exchange,
            "base_currency": "USD", "benchmark_status": bench.describe() if bench else None,
            "exchanges": exchanges(data), **a}
