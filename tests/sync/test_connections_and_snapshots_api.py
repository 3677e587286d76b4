"""Listing and deleting connections; snapshots and aggregates by date range; the connect rate limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlmodel import select

from app.config import Settings
from app.models import ExchangeConnection, Snapshot
from app.services.scheduler import run_daily_sync
from tests.fakes.ccxt_venues import FakeVenue
from tests.sync.conftest import API_KEY, API_SECRET, OTHER, USER, Clock, SyncApp, running_app, sync_settings
from tests.sync.test_scheduler import RUN

Q = {"user_uid": USER}


async def test_list_shows_permissions_and_last_snapshot_never_secrets(sync_app: SyncApp) -> None:
    assert (await sync_app.connect()).status_code == 201
    response = await sync_app.client.get("/api/v1/connections", params=Q)
    assert response.status_code == 200
    [conn] = response.json()
    assert set(conn) == {"id", "exchange", "label", "status", "permissions", "can_trade", "is_paper",
                         "exclude_from_report", "created_at", "last_snapshot"}
    assert conn["last_snapshot"]["day"] == "2024-05-04"
    assert conn["created_at"].endswith("Z") and conn["last_snapshot"]["taken_at"].endswith("Z")
    for secret in (API_KEY, API_SECRET, "v1."):
        assert secret not in response.text
    assert (await sync_app.client.get("/api/v1/connections", params={"user_uid": OTHER})).json() == []


async def test_delete_wipes_credentials_keeps_snapshots_and_hides_other_users(sync_app: SyncApp) -> None:
    conn_id = (await sync_app.connect()).json()["connection"]["id"]
    other = await sync_app.client.delete(f"/api/v1/connections/{conn_id}", params={"user_uid": OTHER})
    assert other.status_code == 404
    assert (await sync_app.client.delete(f"/api/v1/connections/{conn_id}", params=Q)).status_code == 204
    async with sync_app.state.sessionmaker() as s:
        row = await s.get(ExchangeConnection, conn_id)
        assert row is not None and not row.is_active and row.credentials is None and row.credentials_hash is None
        assert len((await s.exec(select(Snapshot))).all()) == 1
    assert (await sync_app.client.get("/api/v1/connections", params=Q)).json() == []
    listed = (await sync_app.client.get("/api/v1/connections", params={**Q, "include_deleted": "true"})).json()
    assert [c["status"] for c in listed] == ["deleted"]
    # the same account can be connected again under the same label
    assert (await sync_app.connect()).status_code == 201


async def test_snapshots_by_date_range(sync_app: SyncApp) -> None:
    assert (await sync_app.connect()).status_code == 201
    sync_app.clock.now = RUN
    await run_daily_sync(sync_app.runtime, now=RUN)
    response = await sync_app.client.get("/api/v1/snapshots", params=Q)
    assert response.status_code == 200
    body = response.json()
    assert [(s["day"], s["trigger"]) for s in body["snapshots"]] == [("2024-05-04", "initial"),
                                                                     ("2024-05-05", "scheduled")]
    assert body["snapshots"][1]["breakdown"]["spot"]["trades"] == 0
    assert body["snapshots"][0]["deposits"] == "0.00000000"  # exact fixed-point strings, never 0E-8
    only = await sync_app.client.get("/api/v1/snapshots", params={**Q, "start_date": "2024-05-05",
                                                                  "end_date": "2024-05-06"})
    assert [s["day"] for s in only.json()["snapshots"]] == ["2024-05-05"]
    assert (await sync_app.client.get("/api/v1/snapshots", params={"user_uid": OTHER})).json()["count"] == 0


@pytest.mark.parametrize(("params", "code"), [
    ({"start_date": "2024-05-05", "end_date": "2024-05-05"}, "invalid_date_range"),
    ({"start_date": "2024-05-06", "end_date": "2024-05-05"}, "invalid_date_range"),
    ({"start_date": "2018-01-01", "end_date": "2024-05-05"}, "invalid_date_range"),
    ({"start_date": "yesterday"}, "validation_error"),
    ({"exchange": "BIN ANCE"}, "validation_error"),
])
async def test_bad_date_filters_are_400(sync_app: SyncApp, params: dict[str, str], code: str) -> None:
    for path in ("/api/v1/snapshots", "/api/v1/metrics/aggregated"):
        response = await sync_app.client.get(path, params={**Q, **params})
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == code


async def test_aggregates_leave_out_connections_excluded_from_reports(sync_app: SyncApp) -> None:
    assert (await sync_app.connect()).status_code == 201
    excluded = await sync_app.connect(label="hidden", exclude_from_report=True,
                                      credentials={"api_key": API_KEY + "x", "api_secret": API_SECRET})
    assert excluded.status_code == 400  # wrong key for the fake: the live check refuses it
    async with sync_app.state.sessionmaker() as s:  # so mark a second real row as excluded instead
        conn = (await s.exec(select(ExchangeConnection))).one()
        snap = (await s.exec(select(Snapshot))).one()
        twin = ExchangeConnection(user_uid=USER, exchange="okx", label="hidden", exclude_from_report=True)
        s.add(twin)
        await s.flush()
        assert twin.id is not None
        s.add(Snapshot(user_uid=USER, connection_id=twin.id, exchange="okx", label="hidden", day=snap.day,
                       trigger="initial", total_equity=1000, cash=1000, unrealized_pnl=0, deposits=0,
                       withdrawals=0, breakdown={}))
        await s.commit()
        assert conn.id is not None
    response = await sync_app.client.get("/api/v1/metrics/aggregated", params=Q)
    assert response.status_code == 200
    body = response.json()
    assert body["connections"] == 1 and body["excluded_connections"] == 1
    assert body["total_equity"] == "26200.00000000"
    assert body["first_day"] == body["last_day"] == str(date(2024, 5, 4))


@pytest.fixture
async def limited_app(settings: Settings, binance: FakeVenue, clock: Clock) -> AsyncIterator[SyncApp]:
    configured = sync_settings(settings, {"binance": binance.base_url}, enabled=True,
                               rate_limit_credentials="2/15minutes")
    async with running_app(configured, clock) as app:
        yield app


async def test_connect_is_rate_limited_per_user(limited_app: SyncApp) -> None:
    first = await limited_app.connect(exchange="nasdaqx")  # invalid: never spends the user's budget
    assert first.status_code == 400
    assert (await limited_app.connect()).status_code == 201
    assert (await limited_app.connect(label="again")).status_code == 409  # a real attempt: it counts
    third = await limited_app.connect(label="once more")
    assert third.status_code == 429
    assert third.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(third.headers["retry-after"]) <= 900
    # other endpoints are not limited by it
    assert (await limited_app.client.get("/api/v1/connections", params=Q)).status_code == 200
