"""The attestation endpoints as a client sees them: evidence binds the server's keys, nonces work."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import httpx
import pytest

from app.attestation.document import verify_document


async def test_boot_evidence_binds_tls_e2e_and_signing_keys(app_client: httpx.AsyncClient) -> None:
    doc = (await app_client.get("/api/v1/attestation")).json()
    assert doc["platform"] == "simulated"
    assert doc["attestation"]["verified"] is False  # simulated evidence is never "verified"
    assert doc["sevSnpEnabled"] is False
    assert any("SIMULATED" in w for w in doc["warnings"])
    assert "development mode" in doc["warnings"]
    fingerprint = (await app_client.get("/api/v1/tls/fingerprint")).json()
    assert doc["keys"]["tls"]["fingerprint"] == fingerprint["fingerprint"]
    ark = doc["certificates"]["chain"][-1]
    result = verify_document(doc, server_cert_der=None, nonce=None, measurements=[], now=datetime.now(UTC),
                             trust_simulated=True, simulated_ark_pem=ark)
    assert result.ok, result.failed


async def test_simulated_evidence_fails_without_trusting_simulation(app_client: httpx.AsyncClient) -> None:
    doc = (await app_client.get("/api/v1/attestation")).json()
    result = verify_document(doc, server_cert_der=None, nonce=None, measurements=[], now=datetime.now(UTC))
    assert not result.ok and result.failed == "chain"


async def test_fresh_evidence_binds_the_nonce(app_client: httpx.AsyncClient) -> None:
    nonce = bytes(range(32))
    doc = (await app_client.post("/api/v1/attestation", json={"nonce": nonce.hex()})).json()
    assert doc["binding"]["nonce"] == nonce.hex()
    assert doc["binding"]["nonce_term"] == hashlib.sha256(nonce).hexdigest()
    result = verify_document(doc, server_cert_der=None, nonce=nonce, measurements=[], now=datetime.now(UTC),
                             trust_simulated=True, simulated_ark_pem=doc["certificates"]["chain"][-1])
    assert result.ok, result.failed
    other = verify_document(doc, server_cert_der=None, nonce=b"x" * 32, measurements=[], now=datetime.now(UTC),
                            trust_simulated=True, simulated_ark_pem=doc["certificates"]["chain"][-1])
    assert other.failed == "nonce"


@pytest.mark.parametrize(
    "body",
    [{"nonce": "ab" * 15}, {"nonce": "ab" * 65}, {"nonce": "zz" * 16}, {"nonce": "abc" * 11}, {},
     {"nonce": "ab" * 16, "extra": 1}, {"nonce": 12345678901234567890}],
)
async def test_bad_nonces_are_400(app_client: httpx.AsyncClient, body: dict[str, object]) -> None:
    response = await app_client.post("/api/v1/attestation", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] in ("validation_error", "invalid_nonce")
