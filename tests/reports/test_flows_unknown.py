"""Accounts whose venue cannot report deposits/withdrawals (snapshots flagged `flows_unavailable`, as the
TradeStation connector stores them) are named in `coverage` — venue + connection id, never the label —
with a warning, in /metrics/performance, in the signed payload (which still verifies) and on the HTML
page. The returns themselves are computed exactly as before."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import SessionMaker
from app.models import ExchangeConnection, Snapshot
from app.services.performance import FLOWS_WARNING
from app.services.report_signing import report_hash
from tests.factories import OTHER_USER, USER, create_connection, create_series
from tests.reports.test_reports_api import DAYS, START, create, equity_path, verify

LABEL = "<script>ts-secret-label</script>"
PERF = "/api/v1/metrics/performance"


async def seed(db: SessionMaker, *, user: str = USER, flag: bool = True) -> int:
    """binance (flows known) + tradestation (flagged unless flag=False) + an excluded flagged account."""
    async with db() as session:
        main = await create_connection(session, user_uid=user, exchange="binance", label="main")
        await create_series(session, main, START, equity_path(DAYS, 10_000, 0.002))
        ts = await create_connection(session, user_uid=user, exchange="tradestation", label=LABEL)
        # Day 40: equity jumps by 5,000 — an unreported deposit, which the returns cannot tell apart.
        path = [v + (5_000 if i >= 40 else 0) for i, v in enumerate(equity_path(DAYS - 5, 20_000, 0.001))]
        await _flagged(session, ts, path, flag)
        hidden = await create_connection(session, user_uid=user, exchange="tradestation", label="hidden",
                                         exclude_from_report=True)
        await _flagged(session, hidden, equity_path(DAYS, 1_000, 0.0), True)
        await session.commit()
        assert ts.id is not None
        return ts.id


async def _flagged(session: AsyncSession, conn: ExchangeConnection, path: list[float], flag: bool) -> None:
    for snap in await create_series(session, conn, START + timedelta(days=5), path):
        snap.breakdown = {"flows_unavailable": True} if flag else {}
        session.add(snap)


def expected(ts_id: int) -> list[dict[str, Any]]:
    return [{"connection_id": ts_id, "exchange": "tradestation", "snapshots": DAYS - 5}]


async def test_signed_report_lists_the_account_and_still_verifies(
    client: httpx.AsyncClient, db: SessionMaker
) -> None:
    ts_id = await seed(db)
    response = await create(client)
    assert response.status_code == 201, response.text
    report = response.json()
    cov = report["payload"]["coverage"]
    assert cov["flows_unknown"] == expected(ts_id)  # the excluded account is not listed
    assert cov["flows_warning"] == FLOWS_WARNING and "deposits/withdrawals" in FLOWS_WARNING
    assert "ts-secret-label" not in response.text  # labels are the user's own names: never in a report
    assert report["report_hash"] == report_hash(report["payload"])
    result = await verify(client, report)
    assert result["valid"] is True, result["failed"]

    page = await client.get(f"/api/v1/reports/{report['report_id']}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<p class="warn"><b>Deposits/withdrawals not reported:</b> ' \
           f"tradestation (connection {ts_id})." in page.text
    assert FLOWS_WARNING in page.text and "except on the accounts the coverage section lists" in page.text
    assert "ts-secret-label" not in page.text and "<script" not in page.text
    # Deposits/withdrawals unknown, not 0.00, in the signed payload and on the page; figures marked.
    flows = report["payload"]["metrics"]["flows"]
    assert flows["known"] is False and flows["total_inflows"] is None and flows["pnl"] is None
    assert "core" in report["payload"]["metrics"]["depends_on_unknown_flows"]
    assert "does not report deposits/withdrawals" in report["payload"]["metrics"]["undefined"]["flows.pnl"]
    assert "Deposits / withdrawals (gross)</td><td>unknown \u2020 / unknown \u2020" in page.text
    assert '<div class="k">Total return \u2020</div>' in page.text


async def test_no_flagged_account_means_an_empty_list_and_no_warning(
    client: httpx.AsyncClient, db: SessionMaker
) -> None:
    await seed(db, flag=False)
    report = (await create(client)).json()
    cov = report["payload"]["coverage"]
    assert (cov["flows_unknown"], cov["flows_warning"]) == ([], None)
    page = await client.get(f"/api/v1/reports/{report['report_id']}", headers={"Accept": "text/html"})
    assert 'class="warn"' not in page.text and "except on the accounts" not in page.text


async def test_performance_lists_it_and_the_returns_are_unchanged(
    client: httpx.AsyncClient, db: SessionMaker
) -> None:
    ts_id = await seed(db)
    await seed(db, user=OTHER_USER, flag=False)  # the same numbers, flows known
    flagged = (await client.get(PERF, params={"user_uid": USER})).json()
    plain = (await client.get(PERF, params={"user_uid": OTHER_USER})).json()
    assert flagged["coverage"]["flows_unknown"] == expected(ts_id)
    assert flagged["coverage"]["flows_warning"] == FLOWS_WARNING
    assert plain["coverage"]["flows_unknown"] == [] and plain["coverage"]["flows_warning"] is None
    for key in ("core", "daily", "monthly_returns", "risk"):
        assert flagged[key] == plain[key], key  # a disclosure only: Modified Dietz is not touched
    # Deposits/withdrawals are unknown, not 0.00, and every figure that depends on them says so.
    unknown = ("total_inflows", "total_outflows", "net_flows", "pnl")
    assert plain["flows"]["known"] is True and all(plain["flows"][k] is not None for k in unknown)
    assert flagged["flows"]["known"] is False and all(flagged["flows"][k] is None for k in unknown)
    assert all("does not report deposits/withdrawals" in flagged["undefined"][f"flows.{k}"] for k in unknown)
    assert flagged["flows"]["start_value"] == plain["flows"]["start_value"]
    assert {"core", "monthly_returns", "yearly_returns"} <= set(flagged["depends_on_unknown_flows"])
    assert plain["depends_on_unknown_flows"] == []
    binance_only = (await client.get(PERF, params={"user_uid": USER, "exchange": "binance"})).json()
    assert binance_only["coverage"]["flows_unknown"] == []


async def test_flagging_the_same_numbers_makes_a_new_report_not_the_stored_one(
    client: httpx.AsyncClient, db: SessionMaker
) -> None:
    ts_id = await seed(db, flag=False)
    first = await create(client)
    assert first.status_code == 201 and first.json()["payload"]["coverage"]["flows_unknown"] == []
    async with db() as session:  # same equities and flows, now known to be incomplete: dedup must not match
        rows = (await session.exec(select(Snapshot).where(Snapshot.connection_id == ts_id))).all()
        for snap in rows:
            snap.breakdown = {"flows_unavailable": True}
            session.add(snap)
        await session.commit()
    second = await create(client)
    assert second.status_code == 201, second.text
    assert second.json()["payload"]["coverage"]["flows_unknown"] == expected(ts_id)
