"""`zka demo` end to end, as `make demo` runs it: the command starts a real `zka serve` (its own process,
left running), verifies it, connects the demo venue E2E, backfills, signs and verifies a report. Then the
demo report in headless Chromium: every chart drawn (the benchmark too), labelled demo, a clean print.

The benchmark comes from a local stand-in for Yahoo (tests never call a market-data API). The screenshot
and the PDF are kept as artefacts: under $ZKA_TEST_ARTEFACTS if set, else pytest's temporary directory;
their paths are printed (pytest -rP shows them).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.bench.server import free_port
from tests.reports.fakes import FakeYahoo, serve
from tests.support.browser import chromium_page

REPORT_URL = re.compile(r"^Report: (https://127\.0\.0\.1:\d+/api/v1/reports/rpt_[0-9a-f]{32})", re.MULTILINE)
SERVICE_PID = re.compile(r"The service keeps running \(pid (\d+)")


@dataclass
class DemoRun:
    result: subprocess.CompletedProcess[str]
    seconds: float
    env: dict[str, str]
    cwd: Path

    @property
    def report_url(self) -> str:
        match = REPORT_URL.search(self.result.stdout)
        assert match, self.result.stdout
        return match.group(1)


@contextmanager
def threaded_yahoo() -> Iterator[str]:
    """FakeYahoo on its own event loop in a thread: the test blocks on the demo's process meanwhile."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner, url = asyncio.run_coroutine_threadsafe(
        serve(FakeYahoo().handle, "/v8/finance/chart/{symbol}"), loop).result(30)
    try:
        yield url
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def _demo(env: dict[str, str], cwd: Path) -> DemoRun:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "app.cli", "demo", "--benchmark", "SPY"], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=300)
    return DemoRun(result, time.monotonic() - started, env, cwd)


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("ZKA_TEST_ARTEFACTS")
    path = Path(where) if where else tmp_path_factory.mktemp("artefacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """One demo on a fresh data directory and a free port; the service it leaves running is stopped after."""
    cwd = tmp_path_factory.mktemp("demo")  # no .env here: the embedded defaults
    with threaded_yahoo() as yahoo_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZKA_") and k != "DATABASE_URL"}
        env.update(ZKA_DATA_DIR=str(cwd / ".zka"), ZKA_PORT=str(free_port()), ZKA_BENCHMARK_YAHOO_URL=yahoo_url)
        run = _demo(env, cwd)
        pid = SERVICE_PID.search(run.result.stdout)
        try:
            yield run
        finally:
            if pid:
                _stop(int(pid.group(1)))


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.1)


def _insecure() -> httpx.Client:
    return httpx.Client(verify=False, timeout=30)  # noqa: S501 - reading our own test server's report


def test_the_demo_shows_a_verified_report_url_and_leaves_the_service_running(first_run: DemoRun) -> None:
    out, err = first_run.result.stdout, first_run.result.stderr
    print(f"zka demo took {first_run.seconds:.1f} s (budget: under a minute on a laptop)")
    assert first_run.result.returncode == 0, out + err
    assert "Traceback" not in out + err and err == ""
    for step in range(1, 6):
        assert f"[{step}/5]" in out
    assert out.count("VERDICT: PASS") == 2 and "FAIL" not in out
    assert "729 days backfilled" in out
    assert "report_data_binds_signing_key  ok" in out
    with _insecure() as client:
        assert client.get(first_run.report_url.split("/api/")[0] + "/health").status_code == 200  # still running
        report = client.get(first_run.report_url).json()
    payload = report["payload"]
    assert payload["exchanges"] == [{"exchange": "demo", "is_paper": True, "accounts": 1}]
    assert payload["benchmark"]["available"] is True and len(payload["metrics"]["benchmark"]["series"]) > 400
    assert payload["coverage"]["days_without_data"] == 0
    saved = first_run.cwd / ".zka" / "demo-report.json"
    verdict = subprocess.run([sys.executable, "-m", "app.cli", "report", "verify", str(saved), "--trust-simulated"],
                             capture_output=True, text=True, timeout=120)
    assert verdict.returncode == 0 and "VERDICT: PASS" in verdict.stdout


def test_running_it_again_reuses_the_service_the_connection_and_the_report(first_run: DemoRun) -> None:
    again = _demo(first_run.env, first_run.cwd)
    assert again.result.returncode == 0, again.result.stdout + again.result.stderr
    assert "already running, reused" in again.result.stdout
    assert "from an earlier run: its snapshots are reused" in again.result.stdout
    assert again.report_url == first_run.report_url
    assert "The service keeps running" not in again.result.stdout  # it was not this run's to report


@pytest.mark.parametrize(("setting", "args", "says"), [
    ({"ZKA_ENV": "production"}, [], "the demo is for development only"),
    ({"ZKA_PORT": "99999"}, [], "ZKA_PORT: Input should be less than or equal to 65535"),
    ({}, ["--benchmark", "DAX"], "--benchmark 'DAX' is not one of BTC-USD, ETH-USD, QQQ, SPY"),
], ids=["production", "bad-port", "bad-benchmark"])
def test_refusals_are_one_line_before_anything_starts(
    tmp_path: Path, setting: dict[str, str], args: list[str], says: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZKA_")}
    env.update(ZKA_DATA_DIR=str(tmp_path / "data"), **setting)
    result = subprocess.run([sys.executable, "-m", "app.cli", "demo", *args], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and says.lower() in result.stderr.lower()
    assert "Traceback" not in result.stderr and not (tmp_path / "data").exists()


@pytest.mark.browser
async def test_the_demo_report_in_chromium_draws_every_chart_and_prints_cleanly(
    first_run: DemoRun, artefacts: Path
) -> None:
    async with chromium_page() as browser:
        page = browser.page
        reply = await page.goto(first_run.report_url)
        assert reply is not None and reply.headers["content-type"].startswith("text/html")
        assert "Demo data." in await page.locator("header .demo").inner_text()
        charts = page.locator("svg")
        assert await charts.count() == 2  # equity (with the benchmark) and drawdown
        for i in range(2):
            box = await charts.nth(i).bounding_box()
            assert box is not None and box["width"] > 600 and box["height"] > 150
        equity_lines = charts.nth(0).locator("path")
        assert await equity_lines.count() == 2  # the portfolio and the benchmark
        for i in range(2):
            assert len(await equity_lines.nth(i).get_attribute("d") or "") > 1000  # real curves
        assert await equity_lines.nth(1).get_attribute("stroke-dasharray") == "5 3"
        assert "SPY (rebased)" in await page.locator(".legend").inner_text()
        assert await page.locator("table.grid td[style]").count() >= 24  # two years of monthly cells
        shot = artefacts / "demo-report.png"
        await page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 50_000

        await page.emulate_media(media="print")
        assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
        assert await page.evaluate(
            "[...document.querySelectorAll('section')].every(s => getComputedStyle(s).breakInside === 'avoid')")
        pdf = artefacts / "demo-report.pdf"
        await page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
        body = pdf.read_bytes()
        assert body.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", body)) >= 2  # A4 pages
        assert browser.problems == []
        print(f"artefacts: {shot} and {pdf}")
