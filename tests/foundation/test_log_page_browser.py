"""The live log page in Chromium: level filter, text search, pause/resume, and a visible state while the
stream reconnects (after which it resumes where it stopped, nothing shown twice). The page's script is a
file of this origin, so it runs under a CSP without 'unsafe-inline' too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from tests.support.browser import BrowserPage, chromium_page
from tests.support.live_server import LiveServer, live_server


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    with live_server(settings) as running:
        yield running


def _publish(server: LiveServer, level: str, event: str) -> None:
    server.state.hub.publish(level=level, event=event, fields={}, timestamp="2026-01-01T00:00:00Z")


async def _visible_rows(browser: BrowserPage, text: str) -> int:
    return await browser.page.locator(".row:visible", has_text=text).count()


@pytest.mark.browser
async def test_log_page_filters_searches_pauses_and_shows_reconnection(server: LiveServer, tmp_path: Path) -> None:
    async with chromium_page() as browser:
        page = browser.page
        # The strictest script policy the page must live with: scripts from this origin, nothing inline.
        await page.route("**/logs/view", lambda route: route.fulfill(
            response=None, status=200, content_type="text/html", body=_page_html(server),
            headers={"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
                                                "connect-src 'self'"}))
        await page.goto(f"{server.url}/api/v1/logs/view")
        await page.wait_for_selector("#status[data-state=live]", timeout=15_000)

        for level, event in (("info", "probe-info alpha"), ("warning", "probe-warning alpha"),
                             ("error", "probe-error beta"), ("debug", "probe-debug beta")):
            _publish(server, level, event)
        await page.locator(".row", has_text="probe-error beta").wait_for(timeout=10_000)
        assert await _visible_rows(browser, "probe-info") == 1
        assert await _visible_rows(browser, "probe-debug") == 0  # "info and above" by default

        await page.select_option("#level", "warning")
        assert await _visible_rows(browser, "probe-info") == 0
        assert await _visible_rows(browser, "probe-warning") == 1
        assert await _visible_rows(browser, "probe-error") == 1
        await page.select_option("#level", "debug")
        assert await _visible_rows(browser, "probe-debug") == 1

        await page.fill("#search", "BETA")  # case-insensitive, over the whole line
        assert await _visible_rows(browser, "probe-") == 2
        await page.fill("#search", "")
        assert await _visible_rows(browser, "probe-") == 4

        await page.click("#pause")
        _publish(server, "info", "probe-while-paused")
        await page.locator("#pending", has_text="1 new while paused").wait_for(timeout=10_000)
        assert await page.locator(".row", has_text="probe-while-paused").count() == 0
        await page.click("#pause")
        await page.locator(".row:visible", has_text="probe-while-paused").wait_for(timeout=5_000)
        assert await page.locator("#pending").inner_text() == ""

        # The server ends every stream (as on shutdown): the page says so while the browser reconnects,
        # and the reconnection replays only what the page has not seen (Last-Event-ID).
        server.state.hub.close_threadsafe()
        await page.wait_for_selector("#status[data-state=reconnecting]", timeout=15_000)
        await page.screenshot(path=str(tmp_path / "logs-reconnecting.png"))
        _publish(server, "warning", "probe-after-reconnect")
        await page.locator(".row", has_text="probe-after-reconnect").wait_for(timeout=20_000)
        for event in ("probe-info alpha", "probe-error beta", "probe-while-paused", "probe-after-reconnect"):
            assert await page.locator(".row", has_text=event).count() == 1, event
        assert browser.problems == []  # no CSP violation, no script error


def _page_html(server: LiveServer) -> str:
    import httpx

    return httpx.get(f"{server.url}/api/v1/logs/view", verify=False).text  # noqa: S501 - the test's own server
