"""Anti-cherry-picking: a manual sync only takes a connection's first snapshot, never twice in 23 h,
never over a scheduled one; refusals are audited too."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import col, select

from app.models import Snapshot, SyncEvent
from app.services.scheduler import run_daily_sync
from tests.fakes.ccxt_venues import FakeVenue
from tests.sync.conftest import OTHER, USER, SyncApp, add_connection
from tests.sync.test_scheduler import RUN


async def _events(app: SyncApp) -> list[tuple[str, str, str | None]]:
    async with app.state.sessionmaker() as s:
        rows = (await s.exec(select(SyncEvent).order_by(col(SyncEvent.id)))).all()
    return [(e.trigger, e.outcome, e.error_class) for e in rows]


async def _sync(app: SyncApp, connection_id: int, user: str = USER) -> tuple[int, dict[str, object], str | None]:
    response = await app.client.post("/api/v1/sync", json={"user_uid": user, "connection_id": connection_id})
    return response.status_code, response.json(), response.headers.get("retry-after")


async def test_first_snapshot_then_refused(sync_app: SyncApp) -> None:
    conn = await add_connection(sync_app)
    status, body, _ = await _sync(sync_app, conn)
    assert status == 200, body
    assert body["day"] == "2024-05-04" and body["trigger"] == "initial"
    status, body, _ = await _sync(sync_app, conn)
    assert status == 409
    assert body["error"]["code"] == "manual_sync_not_allowed"  # type: ignore[index]
    assert "00:00 UTC" in body["error"]["message"]  # type: ignore[index]
    assert await _events(sync_app) == [("initial", "success", None), ("manual", "refused", "manual_sync_not_allowed")]


async def test_a_scheduled_snapshot_is_never_overwritten(sync_app: SyncApp) -> None:
    conn = await add_connection(sync_app)
    sync_app.clock.now = RUN
    assert (await run_daily_sync(sync_app.runtime, now=RUN)).outcomes == {"success": 1}
    status, body, _ = await _sync(sync_app, conn)
    assert status == 409
    async with sync_app.state.sessionmaker() as s:
        rows = (await s.exec(select(Snapshot))).all()
    assert [(r.day, r.trigger) for r in rows] == [(date(2024, 5, 5), "scheduled")]


async def test_never_twice_within_23_hours(sync_app: SyncApp, binance: FakeVenue) -> None:
    conn = await add_connection(sync_app)
    account = binance.scenario.responses.pop("/api/v3/account")
    status, body, _ = await _sync(sync_app, conn)
    assert status == 502 and body["error"]["code"] == "sync_failed"  # type: ignore[index]
    binance.scenario.responses["/api/v3/account"] = account
    sync_app.clock.now += timedelta(hours=22)
    status, body, retry_after = await _sync(sync_app, conn)
    assert status == 429 and body["error"]["code"] == "manual_sync_too_soon"  # type: ignore[index]
    assert retry_after is not None and 3590 <= int(retry_after) <= 3601
    sync_app.clock.now += timedelta(hours=1, seconds=1)
    status, body, _ = await _sync(sync_app, conn)
    assert status == 200
    assert [(t, o) for t, o, _ in await _events(sync_app)] == [
        ("initial", "failed"), ("manual", "refused"), ("initial", "success")]


async def test_another_users_connection_is_404_and_not_audited(sync_app: SyncApp) -> None:
    conn = await add_connection(sync_app)
    status, body, _ = await _sync(sync_app, conn, user=OTHER)
    assert status == 404
    status, _, _ = await _sync(sync_app, 999_999)
    assert status == 404
    assert await _events(sync_app) == []


async def test_status_says_what_is_allowed(sync_app: SyncApp) -> None:
    fresh = await add_connection(sync_app, label="fresh", api_key="fresh-key-00000001")
    assert (await sync_app.connect()).status_code == 201
    response = await sync_app.client.get("/api/v1/sync/status", params={"user_uid": USER})
    assert response.status_code == 200
    body = response.json()
    assert body["scheduler"]["schedule"] == "daily at 00:00 UTC"
    assert body["scheduler"]["next_run"].startswith("2024-05-06T00:00:00")
    by_id = {c["connection_id"]: c for c in body["connections"]}
    assert by_id[fresh]["manual_sync_allowed"] is True and by_id[fresh]["last_snapshot"] is None
    connected = next(c for c in body["connections"] if c["connection_id"] != fresh)
    assert connected["manual_sync_allowed"] is False
    assert connected["last_snapshot"]["day"] == "2024-05-04"
    assert connected["last_attempt"]["outcome"] == "success"
