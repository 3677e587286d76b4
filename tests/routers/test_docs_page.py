"""/docs renders Swagger UI from local assets under its CSP (it was a blank page: the CSP blocked the CDN
it loaded from), and is absent in production."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from tests.support.asgi import asgi_client
from tests.support.browser import chromium_page
from tests.support.live_server import live_server


@pytest.mark.browser
async def test_docs_page_renders_the_api_in_chromium(settings: Settings, tmp_path: Path) -> None:
    with live_server(settings) as server:
        async with chromium_page() as browser:
            outside: list[str] = []
            browser.page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server.url) else None)
            reply = await browser.page.goto(f"{server.url}/docs")
            assert reply is not None and reply.status == 200
            assert "script-src 'self';" in reply.headers["content-security-policy"]
            operations = browser.page.locator(".opblock")
            await operations.first.wait_for(timeout=30_000)
            assert await operations.count() >= 15  # every route of the API, not an error box
            assert await browser.page.locator(".title").first.inner_text() != ""
            await browser.page.screenshot(path=str(tmp_path / "docs.png"), full_page=False)
            assert outside == []  # nothing from a CDN
            assert browser.problems == []


async def test_docs_assets_are_served_locally_and_only_the_listed_ones(settings: Settings) -> None:
    async with asgi_client(settings) as client:
        page = await client.get("/docs")
        assert page.status_code == 200 and "<script>" not in page.text  # no inline script for the CSP to allow
        for name, media in (("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css"),
                            ("docs.js", "text/javascript"), ("favicon-32x32.png", "image/png")):
            asset = await client.get(f"/docs/assets/{name}")
            assert asset.status_code == 200 and asset.headers["content-type"].startswith(media), name
        assert (await client.get("/docs/assets/..%2F..%2F__init__.py")).status_code in (400, 404)
        assert (await client.get("/docs/assets/index.j2")).status_code in (400, 404)


async def test_no_docs_in_production(settings: Settings) -> None:
    from app.main import create_app

    production = settings.model_copy(update={"server": settings.server.model_copy(update={"env": "production"})})
    paths = {getattr(route, "path", "") for route in create_app(production).routes}
    assert not any(path.startswith("/docs") for path in paths)
