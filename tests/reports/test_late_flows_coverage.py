"""A day whose sync saw a flow still pending past the re-scan's look-back (breakdown
`pending_flows_past_lookback`) is listed in the signed report's coverage and warned about on its page:
a flow completing later than the look-back is not counted, so a reader must know where one could be."""

from __future__ import annotations

from datetime import timedelta

import httpx

from app.db import SessionMaker
from app.services.performance import LATE_FLOWS_WARNING
from tests.factories import USER, create_connection, create_series
from tests.reports.test_reports_api import DAYS, START, create, equity_path, verify

PERF = "/api/v1/metrics/performance"


async def seed(db: SessionMaker, *, flagged_day: int | None) -> int:
    async with db() as session:
        conn = await create_connection(session, user_uid=USER, exchange="okx", label="<b>secret-label</b>")
        for i, snap in enumerate(await create_series(session, conn, START, equity_path(DAYS, 10_000, 0.001))):
            if i == flagged_day:
                snap.breakdown = {**(snap.breakdown or {}), "pending_flows_past_lookback": 2}
                session.add(snap)
        await session.commit()
        assert conn.id is not None
        return conn.id


async def test_the_day_is_listed_signed_and_warned_about(client: httpx.AsyncClient, db: SessionMaker) -> None:
    conn_id = await seed(db, flagged_day=10)
    day = (START + timedelta(days=10)).isoformat()
    response = await create(client)
    assert response.status_code == 201, response.text
    report = response.json()
    cov = report["payload"]["coverage"]
    assert cov["late_flows"] == [{"connection_id": conn_id, "exchange": "okx", "days": [day]}]
    assert cov["late_flows_warning"] == LATE_FLOWS_WARNING
    assert (await verify(client, report))["valid"] is True
    page = await client.get(f"/api/v1/reports/{report['report_id']}", headers={"Accept": "text/html"})
    assert f"<b>Flows pending past the look-back:</b> okx (connection {conn_id}: {day})." in page.text
    assert "secret-label" not in page.text
    perf = await client.get(PERF, params={"user_uid": USER})
    assert perf.json()["coverage"]["late_flows"] == cov["late_flows"]


async def test_none_is_an_empty_list_and_no_warning(client: httpx.AsyncClient, db: SessionMaker) -> None:
    await seed(db, flagged_day=None)
    cov = (await client.get(PERF, params={"user_uid": USER})).json()["coverage"]
    assert (cov["late_flows"], cov["late_flows_warning"]) == ([], None)
