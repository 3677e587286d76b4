"""Per-IP limits: rate-limit headers on every limited response, 429 with Retry-After at the limit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from tests.support.asgi import asgi_client


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    settings.limits.rate_limit_attestation = "3/minute"
    settings.limits.rate_limit_verify = "2/minute"
    async with asgi_client(settings, client_ip="203.0.113.20") as client:
        yield client


async def test_fresh_attestation_is_limited_per_ip_with_headers(limited: httpx.AsyncClient) -> None:
    body = {"nonce": "ab" * 16}
    responses = [await limited.post("/api/v1/attestation", json=body) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["x-ratelimit-remaining"] for r in responses[:3]] == ["2", "1", "0"]
    assert responses[0].headers["x-ratelimit-limit"] == "3"
    refused = responses[3]
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "3 per minute" in refused.json()["error"]["message"]


async def test_limits_are_per_endpoint(limited: httpx.AsyncClient) -> None:
    for _ in range(3):
        await limited.post("/api/v1/attestation", json={"nonce": "ab" * 16})
    verify = await limited.post("/api/v1/reports/verify", json={})
    assert verify.status_code != 429 and verify.headers["x-ratelimit-limit"] == "2"


async def test_the_cached_attestation_is_not_limited(limited: httpx.AsyncClient) -> None:
    statuses = {(await limited.get("/api/v1/attestation")).status_code for _ in range(10)}
    assert statuses == {200}


def test_a_malformed_limit_fails_at_start(settings: Settings) -> None:
    settings.limits.rate_limit_reports = "lots"
    with pytest.raises(ValueError):
        create_app(settings)
