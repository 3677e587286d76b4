"""A flow whose state changes after its window is counted exactly once, in the window in which the balance
shows it (issue 19, item 13): a deposit pending at one snapshot and completed one or three days later
used to be dated in an earlier window and never counted, so it became profit.

Driven through the real app (connect, then the 00:00 job) against the fake binance, whose deposit
history is edited between runs the way binance changes a deposit's status (0 pending -> 1 success).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import col, select

from app.models import CountedFlow, Snapshot
from app.services.scheduler import run_daily_sync
from tests.fakes.ccxt_venues import binance_scenario, fake_venue, fixture
from tests.sync.conftest import API_KEY, API_SECRET, BALANCES, PRICES, USER, SyncApp, running_app, sync_settings


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _deposit(dep_id: str, amount: str, inserted: datetime, status: int) -> dict[str, Any]:
    return {**fixture("binance", "fetchDeposits")[0], "id": dep_id, "txId": f"tx-{dep_id}", "amount": amount,
            "coin": "USDT", "insertTime": str(_ms(inserted)), "status": status}


def _run(day: int) -> datetime:
    return datetime(2024, 5, day, 0, 0, 5, tzinfo=UTC)


async def test_deposits_completed_one_and_three_days_late_count_once_when_the_balance_shows_them(
    settings: Any,
) -> None:
    connected = datetime(2024, 5, 5, 14, 30, tzinfo=UTC)
    in_opening_balance = _deposit("d0", "700", connected - timedelta(days=1), 1)  # done before connecting
    one_day_late = _deposit("d1", "10", connected - timedelta(hours=4), 0)  # pending at connect
    three_days_late = _deposit("d3", "30", datetime(2024, 5, 6, 8, tzinfo=UTC), 0)
    deposits = [in_opening_balance, one_day_late]
    scenario = binance_scenario(BALANCES, PRICES, deposits=deposits, api_key=API_KEY, api_secret=API_SECRET)

    class Clock:
        now = connected

        def __call__(self) -> datetime:
            return self.now

    clock = Clock()
    with fake_venue("binance", scenario) as venue:
        async with running_app(sync_settings(settings, {"binance": venue.base_url}), clock) as app:
            assert (await app.connect()).status_code == 201
            for day in (6, 7, 8, 9, 10, 11):
                if day == 7:
                    one_day_late["status"] = 1  # completed on 05-06: the balance of 05-07 00:00 shows it
                    deposits.append(three_days_late)  # made on 05-06 08:00, pending
                if day == 10:
                    three_days_late["status"] = 1  # completed on 05-09
                clock.now = _run(day)
                assert (await run_daily_sync(app.runtime, now=_run(day))).outcomes == {"success": 1}
            rows, hashes = await _stored(app)
    by_day = {row.day: row.deposits for row in rows}
    assert by_day == {date(2024, 5, 4): 0, date(2024, 5, 5): 0, date(2024, 5, 6): Decimal("10"),
                      date(2024, 5, 7): 0, date(2024, 5, 8): 0, date(2024, 5, 9): Decimal("30"),
                      date(2024, 5, 10): 0}
    # remembered by keyed hash only: d0 and d1 and d3 and the connection's baseline, never an id
    assert len(hashes) == 4 and all(len(h) == 64 and int(h, 16) >= 0 for h in hashes)


async def _stored(app: SyncApp) -> tuple[list[Snapshot], list[str]]:
    async with app.state.sessionmaker() as session:
        rows = list((await session.exec(select(Snapshot).order_by(col(Snapshot.day)))).all())
        hashes = list((await session.exec(select(CountedFlow.flow_hash))).all())
    return rows, hashes


async def test_a_deposit_ten_days_late_counts_and_one_pending_past_the_lookback_is_reported(
    settings: Any,
) -> None:
    """binance's re-scan reaches 30 days before each window (LONG_FLOW_LOOKBACK; 6 on venues whose history
    costs a request per 7 days). A deposit dated 05-05 10:30 and completed on 05-15, ten days late, counts in
    the row of 05-15. Another of the same date is still pending on 06-04, when it drops out of the next
    sync's look-back (06-05 00:00 - 30 days): completed later, it could never be seen, so the row of 06-04
    says so (`pending_flows_past_lookback`) and /metrics/performance lists that day in
    `coverage.late_flows` with a warning."""
    connected = datetime(2024, 5, 5, 14, 30, tzinfo=UTC)
    ten_days_late = _deposit("d10", "50", connected - timedelta(hours=4), 0)
    never = _deposit("d40", "70", connected - timedelta(hours=4), 0)
    scenario = binance_scenario(BALANCES, PRICES, deposits=[ten_days_late, never], api_key=API_KEY,
                                api_secret=API_SECRET)

    class Clock:
        now = connected

        def __call__(self) -> datetime:
            return self.now

    clock = Clock()
    runs = [datetime(2024, 5, 6, 0, 0, 5, tzinfo=UTC) + timedelta(days=n) for n in range(32)]  # to 06-06
    with fake_venue("binance", scenario) as venue:
        async with running_app(sync_settings(settings, {"binance": venue.base_url}), clock) as app:
            assert (await app.connect()).status_code == 201
            for run in runs:
                if run.day == 16 and run.month == 5:
                    ten_days_late["status"] = 1  # completed on 05-15
                clock.now = run
                assert (await run_daily_sync(app.runtime, now=run)).outcomes == {"success": 1}
            rows, _ = await _stored(app)
            perf = await app.client.get("/api/v1/metrics/performance", params={"user_uid": USER})
    counted = {row.day: row.deposits for row in rows if row.deposits}
    assert counted == {date(2024, 5, 15): Decimal("50")}
    flagged = {row.day: row.breakdown.get("pending_flows_past_lookback") for row in rows}
    assert {day: n for day, n in flagged.items() if n} == {date(2024, 6, 4): 1}  # the run of 06-05 00:00
    assert perf.status_code == 200, perf.text
    coverage = perf.json()["coverage"]
    assert [(c["exchange"], c["days"]) for c in coverage["late_flows"]] == [("binance", ["2024-06-04"])]
    assert "look-back" in coverage["late_flows_warning"]
