"""The row rules of classify.py one by one, on rows as the original writes them (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from app.services.legacy_import.classify import (
    BACKFILL,
    CLOSE,
    INTRADAY,
    OVERWRITTEN,
    convert_breakdown,
    plan_connection,
)
from app.services.legacy_import.source import LegacyConnection, LegacySnapshot

_n = iter(range(10**6))


def t(day: str, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hh, minute=mm, second=ss, tzinfo=UTC)


def row(stamp: datetime, equity: float, *, created: datetime | None = None, updated: datetime | None = None,
        deposits: float = 0.0, withdrawals: float = 0.0, breakdown: object = None) -> LegacySnapshot:
    created = created or stamp + timedelta(seconds=5)
    return LegacySnapshot(f"s{next(_n)}", "u", stamp, "binance", equity, equity, 0.0, deposits, withdrawals,
                          breakdown, created, updated or created)


def conn(created: datetime) -> LegacyConnection:
    return LegacyConnection("c1", "u", "binance", "main", "", "", None, None, True, False, created, created)


def days(rows: list[LegacySnapshot], connection: LegacyConnection | None = None) -> dict[date, tuple[str, Decimal]]:
    plan = plan_connection("u", "binance", connection, rows)
    return {d.day: (d.trigger, d.total_equity) for d in plan.days}


def test_a_daily_users_first_sync_soon_after_midnight_is_told_from_a_close_by_the_connections_creation() -> None:
    first = row(t("2025-05-10"), 100.0, created=t("2025-05-10", 0, 40))  # looks like a close: created in the window
    close = row(t("2025-05-11"), 101.0)
    assert days([first, close], conn(t("2025-05-10", 0, 39))) == {
        date(2025, 5, 9): ("initial", Decimal("100.0")), date(2025, 5, 10): ("scheduled", Decimal("101.0"))}
    # The same row under a connection that existed before that midnight is the scheduler's close.
    assert days([first, close], conn(t("2025-05-01", 12))) == {
        date(2025, 5, 9): ("scheduled", Decimal("100.0")), date(2025, 5, 10): ("scheduled", Decimal("101.0"))}


def test_classes_of_single_rows() -> None:
    from app.services.legacy_import.classify import classify

    assert classify(row(t("2025-05-11"), 1.0)) == CLOSE
    assert classify(row(t("2025-05-08"), 1.0, created=t("2025-05-11", 16))) == BACKFILL
    assert classify(row(t("2025-05-11", 14), 1.0)) == INTRADAY
    assert classify(row(t("2025-05-11"), 1.0, created=t("2025-05-11", 15))) == INTRADAY
    assert classify(row(t("2025-05-11"), 1.0, updated=t("2025-05-11", 9))) == OVERWRITTEN


def test_flows_of_dropped_rows_move_to_the_next_close_and_late_ones_are_listed() -> None:
    rows = [row(t("2025-05-10", 9), 100.0, created=t("2025-05-10", 9, 30)),  # first sync
            row(t("2025-05-10", 15), 150.0, deposits=50.0),
            row(t("2025-05-11"), 151.0, withdrawals=1.0),
            row(t("2025-05-11", 10), 100.0, withdrawals=51.0)]  # after the last close: nowhere to go
    plan = plan_connection("u", "binance", conn(t("2025-05-10", 9, 29)), rows)
    by_day = {d.day: d for d in plan.days}
    assert (by_day[date(2025, 5, 10)].deposits, by_day[date(2025, 5, 10)].withdrawals) == (Decimal(50), Decimal(1))
    assert plan.carried_flows == 1 and plan.uncarried_flows == [rows[3].id]


def test_a_midnight_close_wins_over_a_backfill_row_of_its_day_and_its_flows_are_not_added_twice() -> None:
    rows = [row(t("2025-05-09"), 99.0, created=t("2025-05-12", 16), deposits=10.0),
            row(t("2025-05-10"), 100.0, deposits=10.0)]
    plan = plan_connection("u", "ibkr", None, rows)
    assert [(d.day, d.trigger, d.deposits) for d in plan.days] == [(date(2025, 5, 9), "scheduled", Decimal(10))]
    assert plan.rejected == [(rows[0].id, "backfill close for 2025-05-09 duplicates a midnight close (kept)")]


def test_breakdown_is_mapped_to_zkas_markets() -> None:
    raw = {"spot": {"totalEquityUsd": 10, "equity": 10, "volume": 5.5, "trades": 2, "tradingFees": 0.1,
                    "trading_fees": 0.1, "fundingFees": 0, "funding_fees": 0},
           "future": {"equity": 3}, "futures_commodities": {"equity": 4, "volume": 1}, "global": {"equity": 17},
           "weird": {"equity": 1}, "swap": {"equity": 0}}
    out = convert_breakdown(raw)
    assert out == {"commodities": {"equity": "4", "trades": 0, "volume": "1", "fees": "0", "funding": "0"},
                   "futures": {"equity": "3", "trades": 0, "volume": "0", "fees": "0", "funding": "0"},
                   "spot": {"equity": "10", "trades": 2, "volume": "5.5", "fees": "0.1", "funding": "0"}}
    assert convert_breakdown(None) == {} and convert_breakdown("not json") == {}
