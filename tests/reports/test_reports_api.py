"""POST/GET /reports and /reports/verify through the real app: signed payload, dedup, display fields
outside the signature, exclusions, coverage, benchmarks (local fake Yahoo), and 4xx on bad input."""

from __future__ import annotations

import copy
import math
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from app.db import SessionMaker
from app.models import BenchmarkPrice, SignedReport
from app.services.report_signing import report_hash
from tests.factories import OTHER_USER, USER, create_connection, create_series, create_snapshot
from tests.reports.fakes import FakeYahoo

START = date(2024, 1, 1)
DAYS = 90


def equity_path(n: int, base: float, drift: float) -> list[float]:
    return [base * (1 + drift) ** i * (1 + 0.01 * math.sin(i)) for i in range(n)]


async def seed(db: SessionMaker, *, user: str = USER, days: int = DAYS) -> None:
    async with db() as session:
        main = await create_connection(session, user_uid=user, exchange="binance", label="main")
        await create_series(session, main, START, equity_path(days, 10_000, 0.002), flows={30: 1_000.0})
        paper = await create_connection(session, user_uid=user, exchange="alpaca", label="paper", is_paper=True)
        await create_series(session, paper, START + timedelta(days=10), equity_path(days - 10, 5_000, 0.001))
        hidden = await create_connection(session, user_uid=user, exchange="kraken", label="x",
                                         exclude_from_report=True)
        await create_series(session, hidden, START, equity_path(days, 99_999, -0.01))
        await session.commit()


async def create(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post("/api/v1/reports", json={"user_uid": USER, **body})


async def verify(client: httpx.AsyncClient, report: dict[str, Any], trust: bool = True) -> dict[str, Any]:
    response = await client.post("/api/v1/reports/verify", json=report,
                                 params={"trust_simulated": "true"} if trust else {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def count_reports(db: SessionMaker) -> int:
    async with db() as session:
        return int((await session.exec(select(func.count()).select_from(SignedReport))).one())


class TestCreate:
    async def test_signed_report_verifies_with_evidence_binding_the_signing_key(
        self, client: httpx.AsyncClient, db: SessionMaker
    ) -> None:
        await seed(db)
        response = await create(client, report_name="Fund I", manager="A. Trader", include_risk_metrics=True)
        assert response.status_code == 201, response.text
        report = response.json()
        payload = report["payload"]
        assert report["report_hash"] == report_hash(payload)
        assert report["report_id"].startswith("rpt_") and len(report["report_id"]) == 36
        assert report["display"] == {"report_name": "Fund I", "manager": "A. Trader"}
        assert "report_name" not in str(payload.keys())
        assert payload["signing"]["public_key"] == report["public_key"]
        assert payload["attestation"]["platform"] == "simulated"
        assert payload["attestation"]["keys"]["signing"]["public_key"] == report["public_key"]
        # The excluded kraken connection is not in the report.
        assert payload["exchanges"] == [{"exchange": "alpaca", "is_paper": True, "accounts": 1},
                                        {"exchange": "binance", "is_paper": False, "accounts": 1}]
        assert payload["metrics"]["flows"]["start_value"] == pytest.approx(10_000.0)
        assert len(payload["metrics"]["daily"]) == DAYS
        assert {"risk", "drawdown", "core", "monthly_returns"} <= payload["metrics"].keys()
        cov = payload["coverage"]
        assert (cov["period_start"], cov["period_end"]) == ("2024-01-01", "2024-03-30")
        assert cov["expected_days"] == DAYS and cov["days_with_data"] == DAYS and cov["gaps"] == []
        assert cov["snapshots"] == DAYS + DAYS - 10 == cov["expected_snapshots"]
        result = await verify(client, report)
        assert result["valid"] is True, result["failed"]
        names = [c["name"] for c in result["checks"]]
        assert names[:4] == ["format", "report_hash", "signature", "signing_key"]
        assert "attestation.chain" in names and names[-1] == "report_data_binds_signing_key"
        assert result["facts"]["simulated"] is True

    async def test_options_leave_sections_out_and_coverage_shows_gaps(
        self, client: httpx.AsyncClient, db: SessionMaker
    ) -> None:
        async with db() as session:
            conn = await create_connection(session)
            for i in (0, 1, 2, 6, 7):  # days 3-5 missing
                await create_snapshot(session, conn, START + timedelta(days=i), 1000 + i)
            await session.commit()
        response = await create(client, start_date="2023-12-30", end_date="2024-01-09",
                                include_risk_metrics=False, include_drawdown=False)
        assert response.status_code == 201, response.text
        payload = response.json()["payload"]
        assert "risk" not in payload["metrics"] and "drawdown" not in payload["metrics"]
        cov = payload["coverage"]
        assert cov["gaps"] == [["2023-12-30", "2023-12-31"], ["2024-01-04", "2024-01-06"],
                               ["2024-01-09", "2024-01-09"]]
        assert (cov["expected_days"], cov["days_with_data"], cov["days_without_data"]) == (11, 5, 6)

    async def test_same_request_returns_the_stored_report(self, client: httpx.AsyncClient, db: SessionMaker) -> None:
        await seed(db)
        first = await create(client, start_date="2024-01-01", end_date="2024-03-01")
        again = await create(client, start_date="2024-01-01", end_date="2024-03-01")
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json() == again.json()
        renamed = await create(client, start_date="2024-01-01", end_date="2024-03-01", report_name="Other")
        assert renamed.status_code == 201
        assert renamed.json()["report_id"] != first.json()["report_id"]
        assert await count_reports(db) == 2

    async def test_new_data_in_the_period_gives_a_new_report(self, client: httpx.AsyncClient, db: SessionMaker) -> None:
        await seed(db)
        first = (await create(client, end_date="2024-06-30")).json()
        async with db() as session:
            late = await create_connection(session, exchange="okx", label="late")
            await create_series(session, late, date(2024, 3, 1), [500, 510, 520])
            await session.commit()
        second = (await create(client, end_date="2024-06-30")).json()
        assert second["report_id"] != first["report_id"]


class TestBadInput:
    @pytest.mark.parametrize(("body", "code"), [
        ({"base_currency": "EUR"}, "unsupported_currency"),
        ({"benchmark": "DOGE"}, "validation_error"),
        ({"start_date": "2024-02-01", "end_date": "2024-02-01"}, "invalid_period"),
        ({"start_date": "2024-02-02", "end_date": "2024-02-01"}, "invalid_period"),
        ({"start_date": "2018-01-01", "end_date": "2024-01-02"}, "invalid_period"),
        ({"unknown_field": 1}, None),
        ({"start_date": "01/02/2024"}, None),
        ({"include_drawdown": "maybe"}, None),
    ])
    async def test_rejected_with_a_clear_4xx_and_nothing_stored(
        self, client: httpx.AsyncClient, db: SessionMaker, body: dict[str, Any], code: str | None
    ) -> None:
        await seed(db)
        response = await create(client, **body)
        assert 400 <= response.status_code < 500, response.text
        error = response.json()["error"]
        assert error["message"]
        if code:
            assert (response.status_code, error["code"]) == (400, code)
        assert await count_reports(db) == 0

    async def test_no_snapshots_is_404_and_one_day_is_400(self, client: httpx.AsyncClient, db: SessionMaker) -> None:
        assert (await create(client)).status_code == 404
        async with db() as session:
            await create_snapshot(session, await create_connection(session), START, 100)
            await session.commit()
        response = await create(client)
        assert (response.status_code, response.json()["error"]["code"]) == (400, "insufficient_data")

    async def test_a_different_user_uid_than_the_token_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/reports", json={"user_uid": "not a user"})
        assert response.status_code == 401


class TestReadAndVerify:
    async def test_get_json_and_html_and_404(self, client: httpx.AsyncClient, db: SessionMaker) -> None:
        await seed(db)
        report = (await create(client, report_name="<b>Fund</b>")).json()
        url = f"/api/v1/reports/{report['report_id']}"
        assert (await client.get(url)).json() == report
        page = await client.get(url, headers={"Accept": "text/html,application/xhtml+xml"})
        assert page.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert page.text.count("<svg") >= 2 and "&lt;b&gt;Fund&lt;/b&gt;" in page.text
        for missing in ("rpt_" + "0" * 32, "1", "x" * 64):
            response = await client.get(f"/api/v1/reports/{missing}")
            assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")

    async def test_the_definitions_of_the_figures_are_signed_and_shown(
        self, client: httpx.AsyncClient, db: SessionMaker
    ) -> None:
        """What cash is, how a flow is valued and which flows count were only in code (issue 19, item 6)."""
        await seed(db)
        report = (await create(client)).json()
        method = report["payload"]["methodology"]["definitions"]
        assert "unrealized PnL" in method["cash"]
        assert "snapshot's price" in method["flow_value"] and "fee" in method["flow_value"]
        assert "Only completed flows count" in method["flows"] and "pending" in method["flows"]
        page = await client.get(f"/api/v1/reports/{report['report_id']}", headers={"Accept": "text/html"})
        assert "<h2>Methodology</h2>" in page.text and "Only completed flows count" in page.text
        tampered = copy.deepcopy(report)
        tampered["payload"]["methodology"]["definitions"]["cash"] = "anything"
        assert (await verify(client, tampered))["valid"] is False

    async def test_any_signed_number_changed_fails_naming_report_hash(
        self, client: httpx.AsyncClient, db: SessionMaker
    ) -> None:
        await seed(db)
        report = (await create(client)).json()
        edits = [
            ("metrics", "core", "sharpe"), ("metrics", "core", "total_return"), ("coverage", "snapshots"),
            ("metrics", "daily", 5, "return"), ("metrics", "monthly_returns", 0, "return"),
        ]
        for path in edits:
            bad = copy.deepcopy(report)
            node = bad["payload"]
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = (node[path[-1]] or 0) + 0.001
            result = await verify(client, bad)
            assert (result["valid"], result["failed"]) == (False, "report_hash"), path
        display_only = copy.deepcopy(report)
        display_only["display"]["report_name"] = "Renamed"
        assert (await verify(client, display_only))["valid"] is True

    async def test_simulated_evidence_needs_trust_and_a_foreign_key_fails(
        self, client: httpx.AsyncClient, db: SessionMaker
    ) -> None:
        await seed(db)
        report = (await create(client)).json()
        assert (await verify(client, report, trust=False))["failed"] == "attestation.chain"
        other_key = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmg4HODmP/oqgQD5Y7Op+i8M0CJghMke0X8U9TkIak2LEEPayNAdqWJ/G" \
                    "uEk4QGN/cb4+IujuEqM7UofzdEyvlA=="
        swapped = {**report, "public_key": other_key}
        assert (await verify(client, swapped))["failed"] == "signature"

    async def test_verify_rejects_non_reports_clearly(self, client: httpx.AsyncClient) -> None:
        result = await verify(client, {"hello": "world"})
        assert (result["valid"], result["failed"]) == (False, "format")
        response = await client.post("/api/v1/reports/verify", content=b"[1,2]",
                                     headers={"content-type": "application/json"})
        assert 400 <= response.status_code < 500

    async def test_reports_are_readable_by_anyone_holding_the_id(
        self, client: httpx.AsyncClient, db: SessionMaker
    ) -> None:
        await seed(db)
        report = (await create(client)).json()
        response = await client.get(f"/api/v1/reports/{report['report_id']}", params={"user_uid": OTHER_USER})
        assert response.status_code == 200


class TestBenchmark:
    async def test_spy_metrics_and_cached_closes(
        self, client: httpx.AsyncClient, db: SessionMaker, yahoo: tuple[FakeYahoo, str]
    ) -> None:
        await seed(db)
        report = (await create(client, benchmark="SPY")).json()
        payload = report["payload"]
        assert payload["benchmark"] == {"symbol": "SPY", "available": True}
        bench = payload["metrics"]["benchmark"]
        assert bench["symbol"] == "SPY" and bench["beta"] is not None and bench["observations"] > 30
        async with db() as session:
            cached = (await session.exec(select(func.count()).select_from(BenchmarkPrice))).one()
        assert cached == sum(1 for i in range(DAYS) if (START + timedelta(days=i)).weekday() < 5)
        calls = len(yahoo[0].requests)
        await create(client, benchmark="SPY", report_name="again")
        assert len(yahoo[0].requests) == calls  # everything came from the cache

    async def test_failed_fetch_gives_a_report_that_says_so_and_is_retried(
        self, client: httpx.AsyncClient, db: SessionMaker, yahoo: tuple[FakeYahoo, str]
    ) -> None:
        await seed(db)
        yahoo[0].fail = True
        first = (await create(client, benchmark="QQQ")).json()
        info = first["payload"]["benchmark"]
        assert info["available"] is False and "HTTP 429" in info["reason"]
        assert "benchmark" not in first["payload"]["metrics"]
        assert (await verify(client, first))["valid"] is True
        yahoo[0].fail = False
        second = (await create(client, benchmark="QQQ")).json()
        assert second["report_id"] != first["report_id"]
        assert second["payload"]["benchmark"]["available"] is True

    async def test_btc_through_ccxt_against_a_local_venue(self, client: httpx.AsyncClient, db: SessionMaker) -> None:
        await seed(db)
        report = (await create(client, benchmark="BTC-USD")).json()
        assert report["payload"]["benchmark"] == {"symbol": "BTC-USD", "available": True}
        assert report["payload"]["metrics"]["benchmark"]["observations"] == DAYS - 1


async def test_a_large_report_verifies_over_the_api_despite_the_global_body_limit(
    client: httpx.AsyncClient, db: SessionMaker
) -> None:
    await seed(db, days=700)
    report = (await create(client)).json()
    assert len(httpx.Request("POST", "/", json=report).content) > 64 * 1024  # over the global body limit
    assert (await verify(client, report))["valid"] is True
    too_big = await client.post("/api/v1/reports", content=b'{"a":"' + b"x" * 200_000 + b'"}',
                                headers={"content-type": "application/json"})
    assert (too_big.status_code, too_big.json()["error"]["code"]) == (413, "payload_too_large")


async def test_a_report_read_by_link_does_not_reveal_the_user_id(client: httpx.AsyncClient, db: SessionMaker) -> None:
    await seed(db)
    report = (await create(client)).json()
    read = await client.get(f"/api/v1/reports/{report['report_id']}")
    assert read.status_code == 200
    assert USER not in read.text
    assert "user_uid" not in read.json()["payload"]
