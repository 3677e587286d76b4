"""The report page in headless Chromium, served over real HTTPS: the SVG charts render under the
strict CSP (no console errors), and a screenshot is taken (tmp_path/report.png) for a human to see."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.db import SessionMaker
from tests.factories import USER
from tests.reports.test_reports_api import seed
from tests.support.browser import chromium_page
from tests.support.live_server import live_server


@pytest.mark.browser
async def test_report_page_renders_its_charts_in_chromium(
    report_settings: Settings, db: SessionMaker, tmp_path: Path
) -> None:
    await seed(db, days=400)
    with live_server(report_settings) as server:
        async with httpx.AsyncClient(base_url=server.url, verify=False) as client:
            response = await client.post("/api/v1/reports", json={
                "user_uid": USER, "benchmark": "SPY", "report_name": "Fund I — track record", "manager": "A. Trader"})
            assert response.status_code == 201, response.text
            report_id = response.json()["report_id"]
        async with chromium_page() as browser:
            page = browser.page
            reply = await page.goto(f"{server.url}/api/v1/reports/{report_id}")
            assert reply is not None and reply.headers["content-type"].startswith("text/html")
            assert await page.title() == "Fund I — track record"
            charts = page.locator("svg")
            assert await charts.count() == 2
            for i in range(2):
                box = await charts.nth(i).bounding_box()
                assert box is not None and box["width"] > 600 and box["height"] > 150
                lines = charts.nth(i).locator("path")
                assert await lines.count() >= 1
                assert len(await lines.first.get_attribute("d") or "") > 1000  # a real curve, not a stub
            legend = await page.locator(".legend").inner_text()
            assert "SPY (rebased)" in legend
            await page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            assert (tmp_path / "report.png").stat().st_size > 50_000
            assert browser.problems == []
