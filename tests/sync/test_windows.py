"""Snapshot windows are chained on real fetch instants: each window starts where the previous snapshot's
observation ended (its taken_at) and ends at this fetch. So a deposit on a missed day is a flow of the
next row (never profit), a late run's flows reach its balance's instant, and consecutive windows never
overlap or leave a gap, whatever the timing of runs and of the initial snapshot."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import col, select

from app.connectors.base import AccountState, ConnectorOptions, Credentials, DayWindow, Permission
from app.models import Snapshot
from app.services.analytics.report import analyse_snapshots
from app.services.scheduler import run_daily_sync
from app.services.snapshots import as_utc
from tests.sync.conftest import USER, SyncApp, add_connection


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, second, tzinfo=UTC)


@dataclasses.dataclass
class Ledger:
    """An account whose balance moves only by deposits at known instants (no trading: no performance).
    Answers like a venue: the balance at the fetch instant, the deposits inside the asked window."""

    clock: Any
    base: Decimal = Decimal(1000)
    deposits: list[tuple[datetime, Decimal]] = dataclasses.field(default_factory=list)
    windows: list[DayWindow] = dataclasses.field(default_factory=list)
    fetch_takes: timedelta = timedelta(0)

    def state(self, window: DayWindow) -> AccountState:
        self.windows.append(window)
        now = self.clock()
        self.clock.now = now + self.fetch_takes  # the fetch itself takes time (e.g. across midnight)
        equity = self.base + sum((a for t, a in self.deposits if t <= now), Decimal(0))
        flows = sum((a for t, a in self.deposits if window.start <= t < window.end), Decimal(0))
        return AccountState(total_equity=equity, cash=equity, deposits=flows)


class LedgerConnector:
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    async def check_credentials(self) -> None: ...

    async def permissions(self) -> set[Permission]:
        return {Permission.READ}

    async def fetch_account_state(self, window: DayWindow) -> AccountState:
        return self._ledger.state(window)

    async def close(self) -> None: ...


@pytest.fixture
def ledger(sync_app: SyncApp) -> Ledger:
    sync_app.clock.now = at(1, 12)  # connections are added (created two days earlier) before the first run
    book = Ledger(sync_app.clock)

    def build(_venue: str, _creds: Credentials, _options: ConnectorOptions) -> LedgerConnector:
        return LedgerConnector(book)

    sync_app.state.connector_factory = build
    return book


async def _run(app: SyncApp, now: datetime) -> dict[str, int]:
    app.clock.now = now
    return (await run_daily_sync(app.runtime, now=now)).outcomes


async def _snapshots(app: SyncApp) -> list[Snapshot]:
    async with app.state.sessionmaker() as s:
        return list((await s.exec(select(Snapshot).order_by(col(Snapshot.day)))).all())


async def test_a_deposit_on_missed_days_is_a_flow_of_the_next_snapshot(sync_app: SyncApp, ledger: Ledger) -> None:
    await add_connection(sync_app)
    assert await _run(sync_app, at(2, 0, 0, 5)) == {"success": 1}  # day 03-01
    ledger.deposits.append((at(3, 12), Decimal(500)))  # the runs of 03-03 and 03-04 never happen
    assert await _run(sync_app, at(5, 0, 0, 5)) == {"success": 1}  # day 03-04
    rows = await _snapshots(sync_app)
    assert [(r.day, r.total_equity, r.deposits) for r in rows] == [
        (date(2024, 3, 1), Decimal(1000), Decimal(0)), (date(2024, 3, 4), Decimal(1500), Decimal(500))]
    analytics = analyse_snapshots(rows)
    assert analytics["core"]["total_return"] == pytest.approx(0.0)  # the deposit is capital, not profit
    assert ledger.windows[-1] == DayWindow(at(2, 0, 0, 5), at(5, 0, 0, 5))


async def test_a_late_run_reads_flows_up_to_its_fetch_instant(sync_app: SyncApp, ledger: Ledger) -> None:
    await add_connection(sync_app)
    await _run(sync_app, at(2, 0, 0, 5))
    ledger.deposits.append((at(3, 3), Decimal(200)))
    assert await _run(sync_app, at(3, 5)) == {"success": 1}  # catch-up at 05:00 for day 03-02
    assert ledger.windows[-1] == DayWindow(at(2, 0, 0, 5), at(3, 5))
    assert await _run(sync_app, at(4, 0, 0, 5)) == {"success": 1}  # on time again for 03-03
    assert ledger.windows[-1] == DayWindow(at(3, 5), at(4, 0, 0, 5))
    rows = await _snapshots(sync_app)
    assert [(r.day, as_utc(r.taken_at), r.total_equity, r.deposits) for r in rows] == [
        (date(2024, 3, 1), at(2, 0, 0, 5), Decimal(1000), Decimal(0)),
        (date(2024, 3, 2), at(3, 5), Decimal(1200), Decimal(200)),  # the 03:00 deposit is in balance and flows
        (date(2024, 3, 3), at(4, 0, 0, 5), Decimal(1200), Decimal(0)),
    ]


async def test_consecutive_windows_never_overlap_nor_leave_a_gap(sync_app: SyncApp, ledger: Ledger) -> None:
    conn = await add_connection(sync_app)
    ledger.fetch_takes = timedelta(seconds=5)  # the initial snapshot starts 23:59:58, finishes after midnight
    sync_app.clock.now = at(1, 23, 59, 58)
    response = await sync_app.client.post("/api/v1/sync", json={"user_uid": USER, "connection_id": conn})
    assert response.status_code == 200, response.text
    ledger.fetch_takes = timedelta(seconds=2)
    for run in (at(2, 0, 0, 5), at(3, 0, 0, 1), at(4, 6, 30), at(7, 0, 0, 3), at(8, 0, 0, 4)):
        assert await _run(sync_app, run) == {"success": 1}, run
    windows = ledger.windows
    assert windows[0] == DayWindow(at(1, 23, 59, 58), at(1, 23, 59, 58))  # the initial window is empty
    assert windows[1].start == at(1, 23, 59, 58)
    assert all(a.end == b.start for a, b in zip(windows, windows[1:], strict=False)), windows
    assert all(w.start <= w.end for w in windows)
    rows = await _snapshots(sync_app)
    assert [as_utc(r.taken_at) for r in rows] == [w.end for w in windows]  # each row observed its window's end
    assert [r.day for r in rows] == [date(2024, 2, 29), *(date(2024, 3, d) for d in (1, 2, 3, 6, 7))]


@pytest.mark.parametrize(("window", "span", "expected"), [
    (DayWindow(at(1), at(2, 0, 0, 7)), timedelta(hours=24), [(at(1), at(2)), (at(2), at(2, 0, 0, 7))]),
    (DayWindow(at(1), at(2)), timedelta(hours=24), [(at(1), at(2))]),
    (DayWindow(at(1), at(16, 12)), timedelta(days=7), [(at(1), at(8)), (at(8), at(15)), (at(15), at(16, 12))]),
    (DayWindow(at(3, 9), at(3, 9)), timedelta(hours=24), []),  # initial window: nothing to ask a venue
])
def test_a_window_splits_into_contiguous_pieces_within_a_venue_range(
    window: DayWindow, span: timedelta, expected: list[tuple[datetime, datetime]]
) -> None:
    assert [(piece.start, piece.end) for piece in window.split(span)] == expected
