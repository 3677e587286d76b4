"""GET /metrics: Prometheus text with route templates, and never a user id, label or amount."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from app.config import AuthSettings, Settings
from tests.support.asgi import asgi_client


async def test_metrics_count_requests_by_route_template(app_client: httpx.AsyncClient) -> None:
    await app_client.get("/health")
    await app_client.get("/api/v1/tls/fingerprint")
    await app_client.post("/api/v1/attestation", json={"nonce": "ab" * 16})
    await app_client.get("/api/v1/nothing-here")
    text = (await app_client.get("/metrics")).text
    assert 'zka_http_requests_total{method="GET",route="/api/v1/tls/fingerprint",status="200"} 1.0' in text
    assert 'route="/health"' in text
    assert 'route="unmatched",status="404"' in text
    assert 'zka_attestation_evidence_total{kind="fresh",outcome="ok"} 1.0' in text
    assert "zka_http_request_duration_seconds_bucket" in text


async def test_metrics_carry_no_user_data(app_client: httpx.AsyncClient) -> None:
    uid = "user_2metricsProbe987"
    await app_client.get("/api/v1/connections", params={"user_uid": uid})
    await app_client.get(f"/api/v1/reports/{uid}")
    text = (await app_client.get("/metrics")).text
    assert uid not in text
    assert "metricsProbe" not in text


async def test_metrics_serve_loopback_only_without_a_key(settings: Settings) -> None:
    async with asgi_client(settings, client_ip="203.0.113.40") as remote:
        refused = await remote.get("/metrics")
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    async with asgi_client(settings) as local:
        assert (await local.get("/metrics")).status_code == 200


async def test_metrics_need_the_bearer_key_once_configured(settings: Settings) -> None:
    key = "m" * 40
    settings.auth.metrics_api_key = SecretStr(key)
    async with asgi_client(settings) as client:  # loopback too: the key decides
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": f"Bearer {key}"})).status_code == 200


def test_a_short_metrics_key_is_refused() -> None:
    with pytest.raises(ValueError, match="ZKA_METRICS_API_KEY"):
        AuthSettings(metrics_api_key="short")  # type: ignore[arg-type]
