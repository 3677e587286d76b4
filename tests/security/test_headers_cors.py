"""CORS from the configured allow-list only; security headers on every response, CSP on HTML pages."""

from __future__ import annotations

import httpx

from app.config import Settings
from tests.support.asgi import asgi_client

ALLOWED = "https://app.example.com"


async def test_only_allowed_origins_get_cors_headers(settings: Settings) -> None:
    settings.server.cors_origins = [ALLOWED]
    async with asgi_client(settings) as client:
        allowed = await client.options("/api/v1/attestation", headers={
            "Origin": ALLOWED, "Access-Control-Request-Method": "POST"})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == ALLOWED
        other = await client.get("/api/v1/tls/fingerprint", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        simple = await client.get("/api/v1/tls/fingerprint", headers={"Origin": ALLOWED})
        assert simple.headers["access-control-allow-origin"] == ALLOWED


async def test_no_cors_without_configuration(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/api/v1/tls/fingerprint", headers={"Origin": ALLOWED})
    assert "access-control-allow-origin" not in response.headers


async def test_api_responses_are_not_stored_and_pages_carry_a_csp(app_client: httpx.AsyncClient) -> None:
    api = await app_client.get("/api/v1/attestation")
    assert api.headers["cache-control"] == "no-store"
    assert api.headers["x-frame-options"] == "DENY"
    assert "content-security-policy" not in api.headers
    page = await app_client.get("/api/v1/logs/view")
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1]  # no inline script at all
    assert "script-src 'self'" in csp  # the page's script is a file of this origin (/logs/view.js)
    assert page.headers["strict-transport-security"].startswith("max-age=")
