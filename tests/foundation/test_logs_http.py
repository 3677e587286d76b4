"""The log endpoints over real HTTPS: auth rules, SSE wire format and replay, and the live page."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from app.config import Settings
from app.core.logging import get_logger
from tests.support.asgi import asgi_client
from tests.support.live_server import LiveServer, live_server


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    with live_server(settings) as running:
        yield running


def _client(server: LiveServer) -> httpx.AsyncClient:
    # Trust exactly the server's own certificate, as a client that verified the attestation would.
    import ssl

    context = ssl.create_default_context(cadata=server.tls.cert_pem)
    return httpx.AsyncClient(base_url=server.url, verify=context, timeout=10)


async def _read_events(response: httpx.Response, count: int) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    async for line in response.aiter_lines():
        if not line:
            if current:
                events.append(current)
                current = {}
                if len(events) >= count:
                    return events
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        current[name] = value.strip()
    return events


async def test_stream_sends_id_event_and_json_data_and_replays(server: LiveServer) -> None:
    for i in range(3):
        get_logger("test").info("marker", n=i)
    async with _client(server) as client:
        first = [e.id for e in server.state.hub.recent() if e.event == "marker"]
        async with client.stream("GET", "/api/v1/logs/stream", headers={"Last-Event-ID": str(first[0])}) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            events = await asyncio.wait_for(_read_events(resp, 2), 5)
    assert [e["event"] for e in events] == ["log", "log"]
    assert [int(e["id"]) for e in events] == first[1:]
    data = json.loads(events[0]["data"])
    assert data["event"] == "marker" and data["fields"] == {"n": 1}


async def test_live_lines_reach_an_open_stream(server: LiveServer) -> None:
    async with _client(server) as client:
        last = server.state.hub.recent()[-1].id
        async with client.stream("GET", "/api/v1/logs/stream", headers={"Last-Event-ID": str(last)}) as resp:
            reader = asyncio.ensure_future(_read_events(resp, 1))
            await asyncio.sleep(0.2)
            get_logger("test").warning("fresh line")
            events = await asyncio.wait_for(reader, 5)
    assert json.loads(events[0]["data"])["event"] == "fresh line"


def test_a_client_over_the_cap_gets_503_before_any_stream(settings: Settings) -> None:
    settings.limits.log_stream_max_clients = 1
    with live_server(settings) as running:
        async def scenario() -> None:
            async with _client(running) as client:
                async with client.stream("GET", "/api/v1/logs/stream") as first:
                    assert first.status_code == 200
                    await asyncio.sleep(0.2)
                    refused = await client.get("/api/v1/logs/stream")
                    assert refused.status_code == 503
                    assert refused.headers["content-type"] == "application/json"
                    assert refused.json()["error"]["code"] == "too_many_clients"
                await asyncio.sleep(0.3)  # the first client left: its slot is free again
                async with client.stream("GET", "/api/v1/logs/stream") as again:
                    assert again.status_code == 200

        asyncio.run(scenario())
        published = str([e.to_json() for e in running.state.hub.recent(limit=1000)])
        assert "ExceptionGroup" not in published and "Traceback" not in published


async def test_non_loopback_clients_need_the_log_key(settings: Settings) -> None:
    async with asgi_client(settings, client_ip="203.0.113.7") as client:
        for path in ("/api/v1/logs", "/api/v1/logs/stream", "/api/v1/logs/view"):
            response = await client.get(path)
            assert response.status_code == 401, path
            assert response.json()["error"]["code"] == "unauthorized"


async def test_a_configured_key_is_required_even_from_loopback(settings: Settings) -> None:
    settings.auth.log_api_key = SecretStr("k" * 24)
    async with asgi_client(settings) as client:
        assert (await client.get("/api/v1/logs")).status_code == 401
        assert (await client.get("/api/v1/logs", headers={"X-Api-Key": "wrong"})).status_code == 401
        assert (await client.get("/api/v1/logs", headers={"X-Api-Key": "k" * 24})).status_code == 200
        assert (await client.get("/api/v1/logs", params={"api_key": "k" * 24})).status_code == 200


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium is required for browser tests (apt-get install chromium)")
    return path


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.browser
async def test_log_page_shows_new_lines_live_in_chromium(server: LiveServer) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS, headless=True)
        try:
            page = await (await browser.new_context(ignore_https_errors=True)).new_page()
            await page.goto(f"{server.url}/api/v1/logs/view")
            await page.wait_for_selector("#status.live", timeout=10_000)
            get_logger("test").info("hello from the test", probe="visible-in-browser")
            row = page.locator(".row", has_text="hello from the test")
            await row.wait_for(timeout=10_000)
            assert "visible-in-browser" in await row.inner_text()
        finally:
            await browser.close()
