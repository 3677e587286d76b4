"""GET /metrics: Prometheus text with route templates, and never a user id, label or amount."""

from __future__ import annotations

import httpx


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
