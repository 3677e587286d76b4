"""GIPS presentation through the real app (issue 17): a 200-day record is never annualised and says
why, in /metrics/performance, in the signed payload (with its versioned methodology) and on the page;
calendar years are labelled partial."""

from __future__ import annotations

import httpx

from app.db import SessionMaker
from app.services.analytics.report import GIPS_SHORT
from app.services.report_signing import report_hash
from tests.factories import USER, create_connection, create_series
from tests.reports.test_reports_api import START, create, equity_path, verify

ANNUALISED = ("cagr", "volatility", "sharpe", "sortino", "downside_deviation", "calmar")


async def seed(db: SessionMaker, days: int) -> None:
    async with db() as session:
        conn = await create_connection(session, user_uid=USER, exchange="binance", label="main")
        await create_series(session, conn, START, equity_path(days, 10_000, 0.002), flows={30: 1_000.0})
        await session.commit()


async def test_a_200_day_report_shows_no_annualised_figure_and_says_why(
    client: httpx.AsyncClient, db: SessionMaker
) -> None:
    await seed(db, 200)
    response = await create(client, benchmark="BTC-USD")
    assert response.status_code == 201, response.text
    report = response.json()
    metrics = report["payload"]["metrics"]
    assert metrics["period"]["annualised"] is False and metrics["period"]["capital_span_days"] == 199
    for key in ANNUALISED:
        assert metrics["core"][key] is None and metrics["undefined"][f"core.{key}"] == GIPS_SHORT, key
    assert metrics["core"]["total_return"] is not None and metrics["core"]["max_drawdown"] is not None
    bench = metrics["benchmark"]
    assert bench["beta"] is not None  # not annualised: still shown
    for key in ("alpha", "tracking_error", "information_ratio"):
        assert bench[key] is None and metrics["undefined"][f"benchmark.{key}"] == GIPS_SHORT, key
    assert metrics["yearly_returns"] == [{**metrics["yearly_returns"][0], "partial": True, "from": "2024-01-01",
                                          "to": "2024-07-18"}]
    methodology = report["payload"]["methodology"]
    assert methodology["version"] == "zka-methodology-2"
    assert "Modified Dietz" in methodology["return"] and methodology["valuation_time"].startswith("00:00 UTC")
    assert "shorter than 365 days" in methodology["short_periods"] and methodology["currency"] == "USD"
    assert report["report_hash"] == report_hash(report["payload"])  # the methodology is signed
    assert (await verify(client, report))["valid"] is True

    perf = (await client.get("/api/v1/metrics/performance", params={"user_uid": USER})).json()
    assert perf["core"] == metrics["core"] and perf["methodology"] == methodology

    page = (await client.get(f"/api/v1/reports/{report['report_id']}", headers={"Accept": "text/html"})).text
    assert f"CAGR, Sharpe, Volatility, Sortino, Calmar: {GIPS_SHORT}." in page
    assert "<h2>Methodology</h2>" in page and "2024 is a partial year (2024-01-01 to 2024-07-18)" in page


async def test_a_report_over_more_than_a_year_is_annualised(client: httpx.AsyncClient, db: SessionMaker) -> None:
    await seed(db, 400)
    metrics = (await create(client)).json()["payload"]["metrics"]
    assert metrics["period"]["annualised"] is True
    assert all(metrics["core"][key] is not None for key in ("cagr", "volatility", "sharpe"))
    assert [y["partial"] for y in metrics["yearly_returns"]] == [True, True]
