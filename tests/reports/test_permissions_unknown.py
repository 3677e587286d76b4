"""Accounts whose venue cannot tell a key's permissions (stored `permissions: ["unknown"]`) are named in
report coverage — venue + connection id, never the label — with a warning, in /metrics/performance, in
the signed payload (which still verifies) and on the HTML page (issue 12 item 8)."""

from __future__ import annotations

import httpx
from sqlmodel import select

from app.db import SessionMaker
from app.models import ExchangeConnection
from app.services.performance import PERMISSIONS_WARNING
from app.services.report_signing import report_hash
from tests.factories import OTHER_USER, USER, create_connection, create_series
from tests.reports.test_reports_api import DAYS, START, create, equity_path, verify

LABEL = "<script>cb-secret-label</script>"
PERF = "/api/v1/metrics/performance"


async def seed(db: SessionMaker, *, user: str = USER, unknown: bool = True) -> int:
    """binance (key checked) + gate (permissions unknown unless unknown=False) + an excluded one."""
    async with db() as session:
        main = await create_connection(session, user_uid=user, exchange="binance", label="main")
        main.permissions = ["read", "trade"]
        await create_series(session, main, START, equity_path(DAYS, 10_000, 0.002))
        cb = await create_connection(session, user_uid=user, exchange="gate", label=LABEL)
        cb.permissions = ["unknown"] if unknown else ["read"]
        await create_series(session, cb, START, equity_path(DAYS, 5_000, 0.001))
        hidden = await create_connection(session, user_uid=user, exchange="kucoin", label="hidden",
                                         exclude_from_report=True)
        hidden.permissions = ["unknown"]
        await create_series(session, hidden, START, equity_path(DAYS, 1_000, 0.0))
        await session.commit()
        assert cb.id is not None
        return cb.id


async def test_signed_report_lists_the_account_and_the_page_warns(client: httpx.AsyncClient, db: SessionMaker) -> None:
    cb_id = await seed(db)
    response = await create(client)
    assert response.status_code == 201, response.text
    report = response.json()
    cov = report["payload"]["coverage"]
    assert cov["permissions_unknown"] == [{"connection_id": cb_id, "exchange": "gate"}]  # excluded: not listed
    assert cov["permissions_warning"] == PERMISSIONS_WARNING
    assert "cb-secret-label" not in response.text
    assert report["report_hash"] == report_hash(report["payload"])
    result = await verify(client, report)
    assert result["valid"] is True, result["failed"]

    page = await client.get(f"/api/v1/reports/{report['report_id']}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert f'<p class="warn"><b>Key permissions not verified:</b> gate (connection {cb_id}).' in page.text
    assert PERMISSIONS_WARNING.replace("'", "&#x27;") in page.text
    assert "cb-secret-label" not in page.text and "<script" not in page.text


async def test_checked_keys_mean_an_empty_list_and_no_warning(client: httpx.AsyncClient, db: SessionMaker) -> None:
    await seed(db, unknown=False)
    report = (await create(client)).json()
    cov = report["payload"]["coverage"]
    assert (cov["permissions_unknown"], cov["permissions_warning"]) == ([], None)
    page = await client.get(f"/api/v1/reports/{report['report_id']}", headers={"Accept": "text/html"})
    assert "Key permissions not verified" not in page.text


async def test_performance_lists_it_and_connections_show_unknown(client: httpx.AsyncClient, db: SessionMaker) -> None:
    cb_id = await seed(db)
    await seed(db, user=OTHER_USER, unknown=False)
    flagged = (await client.get(PERF, params={"user_uid": USER})).json()
    plain = (await client.get(PERF, params={"user_uid": OTHER_USER})).json()
    assert flagged["coverage"]["permissions_unknown"] == [{"connection_id": cb_id, "exchange": "gate"}]
    assert plain["coverage"]["permissions_unknown"] == [] and plain["coverage"]["permissions_warning"] is None
    assert flagged["core"] == plain["core"]  # a disclosure only
    binance_only = (await client.get(PERF, params={"user_uid": USER, "exchange": "binance"})).json()
    assert binance_only["coverage"]["permissions_unknown"] == []
    listed = (await client.get("/api/v1/connections", params={"user_uid": USER})).json()
    conns = listed["connections"] if isinstance(listed, dict) else listed
    by_id = {c["id"]: c for c in conns}
    assert by_id[cb_id]["permissions"] == ["unknown"] and by_id[cb_id]["can_trade"] is False


async def test_an_unknown_key_makes_a_new_report_not_the_stored_one(
    client: httpx.AsyncClient, db: SessionMaker
) -> None:
    cb_id = await seed(db, unknown=False)
    first = await create(client)
    assert first.status_code == 201 and first.json()["payload"]["coverage"]["permissions_unknown"] == []
    async with db() as session:
        conn = (await session.exec(select(ExchangeConnection).where(ExchangeConnection.id == cb_id))).one()
        conn.permissions = ["unknown"]
        session.add(conn)
        await session.commit()
    second = await create(client)
    assert second.status_code == 201, second.text
    assert second.json()["payload"]["coverage"]["permissions_unknown"] == [{"connection_id": cb_id,
                                                                            "exchange": "gate"}]
