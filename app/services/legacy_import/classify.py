"""Turning the original's `snapshot_data` rows of one connection into zka's daily rows (pure, no I/O).

What a TS-era table holds (read from the original at 100cf59: src/services/daily-sync-scheduler.service.ts,
src/services/equity-snapshot-aggregator.ts (roundToInterval, buildSnapshot, backfillIbkrHistoricalSnapshots),
src/services/enclave-worker.ts (manual-sync guard); reference ts-original.md §24–26) and the rule applied
to each row, in this order (the README states the same rules):

1. rejected: equity or a flow is not a finite number, or a flow is negative (never guessed);
2. backfill close: stamped 00:00 UTC and created on a later UTC date (IBKR Flex backfill: stamped with the
   statement's report date, written when the connection was made) → the close of the stamped date;
3. first sync: the connection's earliest-created row that is not a backfill close, when it was written by
   a sync during the day (not within CLOSE_WINDOW after its 00:00 stamp) or its connection was created at
   or after its stamp → zka's initial snapshot, dated as zka dates its own: the close of the day before
   the row was created;
4. midnight close: stamped 00:00 UTC, created within CLOSE_WINDOW after the stamp and not updated after
   that window (the scheduler's run at 00:00 of D+1) → the close of D;
5. intraday: everything else (hour-stamped rows of users with a sub-daily interval, manual/admin syncs,
   and a midnight row overwritten later that day by a sync with the same rounded stamp: only `updatedAt`
   shows it, its close is lost) → not a daily row; its deposits and withdrawals move to the connection's
   next imported row after it, so a flow is never turned into a gain.

Duplicates by (connection, day): midnight close > first sync > backfill close (zka keeps live rows over
history the same way). A losing row records the same day's close, so its flows are not added again.
A day whose equity moves by more than JUMP_RATIO with no flow is listed (the original stopped recording
flows in late 2025: the move may be a deposit), never corrected.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from app.connectors.base import MARKETS, MarketStats, breakdown_json
from app.core.money import ZERO, to_decimal
from app.services.legacy_import.source import LegacyConnection, LegacySnapshot
from app.services.snapshots import initial_day

CLOSE_WINDOW = timedelta(hours=3)  # the scheduler's 00:00 run writes every user's rows within this
JUMP_RATIO = Decimal("0.25")

CLOSE, BACKFILL, FIRST_SYNC, INTRADAY, OVERWRITTEN, REJECTED, DUPLICATE = (
    "midnight_close", "backfill_close", "first_sync", "intraday", "overwritten_midnight", "rejected", "duplicate")
TRIGGER = {CLOSE: "scheduled", BACKFILL: "backfill", FIRST_SYNC: "initial"}
PRECEDENCE = {CLOSE: 3, FIRST_SYNC: 2, BACKFILL: 1}

# The original's market names (§24.5–24.6) → zka's (app.connectors.base.MARKETS); `global` is the total.
MARKET_NAMES = {"future": "futures", "futures_commodities": "commodities", "stock": "stocks"}


@dataclass
class DayRow:
    """One zka daily row planned from one source row."""

    source_id: str
    cls: str
    day: date
    instant: datetime  # when the close it records was taken: orders the carrying of flows
    taken_at: datetime
    total_equity: Decimal
    cash: Decimal | None
    unrealized_pnl: Decimal | None
    deposits: Decimal
    withdrawals: Decimal
    breakdown: dict[str, Any]

    @property
    def trigger(self) -> str:
        return TRIGGER[self.cls]


@dataclass
class ConnectionPlan:
    user_uid: str
    exchange: str  # the original's name (snapshot rows and the connection carry the same string)
    legacy: LegacyConnection | None  # None: deleted in the original, its rows remain
    days: list[DayRow] = field(default_factory=list)
    classes: Counter[str] = field(default_factory=Counter)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (source row id, reason)
    carried_flows: int = 0  # dropped rows whose flows moved to a later row
    uncarried_flows: list[str] = field(default_factory=list)  # dropped rows with flows and no later row
    jumps: list[date] = field(default_factory=list)


def plan_connection(user_uid: str, exchange: str, legacy: LegacyConnection | None,
                    rows: Sequence[LegacySnapshot]) -> ConnectionPlan:
    plan = ConnectionPlan(user_uid, exchange, legacy)
    valid: list[LegacySnapshot] = []
    for row in rows:
        reason = _invalid(row)
        if reason:
            plan.rejected.append((row.id, reason))
            plan.classes[REJECTED] += 1
        else:
            valid.append(row)
    first = _first_sync(valid, legacy)
    kept: dict[date, DayRow] = {}
    dropped: list[LegacySnapshot] = []
    for row in valid:
        cls = FIRST_SYNC if row is first else classify(row)
        plan.classes[cls] += 1
        if cls in (INTRADAY, OVERWRITTEN):
            dropped.append(row)
            continue
        day_row = _day_row(row, cls)
        other = kept.get(day_row.day)
        if other is not None:
            loser, winner = (day_row, other) if PRECEDENCE[other.cls] >= PRECEDENCE[cls] else (other, day_row)
            plan.rejected.append((loser.source_id, f"{CLS_WORD[loser.cls]} for {loser.day} duplicates a "
                                                   f"{CLS_WORD[winner.cls]} (kept)"))
            plan.classes[DUPLICATE] += 1
            if loser is day_row:
                continue
        kept[day_row.day] = day_row
    plan.days = sorted(kept.values(), key=lambda d: d.day)
    _carry_flows(plan, dropped)
    plan.jumps = _jumps(plan.days)
    return plan


CLS_WORD = {CLOSE: "midnight close", FIRST_SYNC: "first sync", BACKFILL: "backfill close"}


def classify(row: LegacySnapshot) -> str:
    """Rules 2, 4 and 5 of the module docstring (rule 3 needs the connection's other rows)."""
    at_midnight = row.timestamp.time() == time.min
    if at_midnight and row.created_at.date() > row.timestamp.date():
        return BACKFILL
    if at_midnight and row.created_at - row.timestamp < CLOSE_WINDOW:
        return OVERWRITTEN if row.updated_at - row.timestamp >= CLOSE_WINDOW else CLOSE
    return INTRADAY


def _first_sync(rows: Sequence[LegacySnapshot], legacy: LegacyConnection | None) -> LegacySnapshot | None:
    candidates = [r for r in rows if classify(r) != BACKFILL]
    if not candidates:
        return None
    first = min(candidates, key=lambda r: (r.created_at, r.timestamp))
    made_after_stamp = legacy is not None and legacy.created_at >= first.timestamp
    return first if classify(first) != CLOSE or made_after_stamp else None


def _invalid(row: LegacySnapshot) -> str | None:
    for name, value in (("totalEquity", row.total_equity), ("deposits", row.deposits),
                        ("withdrawals", row.withdrawals)):
        if not math.isfinite(value):
            return f"{name} is not a finite number"
    if row.deposits < 0 or row.withdrawals < 0:
        return "a negative deposit or withdrawal"
    return None


def _day_row(row: LegacySnapshot, cls: str) -> DayRow:
    if cls == FIRST_SYNC:
        day, instant = initial_day(row.created_at), row.created_at
    elif cls == CLOSE:
        day = row.timestamp.date() - timedelta(days=1)
        instant = row.timestamp
    else:  # backfill: the statement's report date is the day it closes
        day = row.timestamp.date()
        instant = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
    unrealized = to_decimal(row.unrealized_pnl) if math.isfinite(row.unrealized_pnl) else None
    # The original stored realizedBalance = equity − unrealized: not the cash balance, so cash stays unknown.
    return DayRow(row.id, cls, day, instant, row.created_at, to_decimal(row.total_equity), None, unrealized,
                  to_decimal(row.deposits), to_decimal(row.withdrawals), convert_breakdown(row.breakdown))


def _carry_flows(plan: ConnectionPlan, dropped: Sequence[LegacySnapshot]) -> None:
    for row in dropped:
        if row.deposits == 0 and row.withdrawals == 0:
            continue
        target = next((d for d in plan.days if d.instant > row.timestamp), None)
        if target is None:
            plan.uncarried_flows.append(row.id)
            continue
        target.deposits += to_decimal(row.deposits)
        target.withdrawals += to_decimal(row.withdrawals)
        plan.carried_flows += 1


def _jumps(days: Sequence[DayRow]) -> list[date]:
    out = []
    for prev, cur in zip(days, days[1:], strict=False):
        if cur.deposits == ZERO and cur.withdrawals == ZERO and prev.total_equity > 0:
            if abs(cur.total_equity / prev.total_equity - 1) > JUMP_RATIO:
                out.append(cur.day)
    return out


def convert_breakdown(raw: Any) -> dict[str, Any]:
    """The original's per-market JSON (dual camelCase/snake_case entries, §24.5–24.6) → zka's breakdown.
    Markets zka does not know are left out; `global` is the sum, recomputed by readers."""
    markets: dict[str, MarketStats] = {}
    if isinstance(raw, dict):
        for name, entry in raw.items():
            target = MARKET_NAMES.get(name, name)
            if target not in MARKETS or not isinstance(entry, dict):
                continue
            stats = MarketStats(
                equity=_num(entry, "totalEquityUsd", "equity"), trades=int(_num(entry, "trades")),
                volume=_num(entry, "volume"), fees=_num(entry, "tradingFees", "trading_fees"),
                funding=_num(entry, "fundingFees", "funding_fees"))
            if any((stats.equity, stats.trades, stats.volume, stats.fees, stats.funding)):
                markets[target] = stats
    # The original's flows are recorded on some rows only (removed in late 2025): kept as they are, the
    # flags below stay absent; a day's unexplained jump is listed in the summary instead.
    return breakdown_json(markets, flows_known=True, market_closed=False)


def _num(entry: dict[str, Any], *names: str) -> Decimal:
    for name in names:
        value = entry.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return to_decimal(value)
    return ZERO

