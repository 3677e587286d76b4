"""Attestation evidence and the TLS identity it binds (SPEC §6)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from app.core.http_errors import error_responses
from app.core.rate_limit import ip_rate_limit
from app.deps import StateDep
from app.errors import ServiceUnavailable
from app.services.attestation import AttestationService

router = APIRouter(tags=["attestation"])

NONCE_MIN, NONCE_MAX = 16, 64


class NonceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nonce: Annotated[str, Field(min_length=2 * NONCE_MIN, max_length=2 * NONCE_MAX, pattern=r"^([0-9a-fA-F]{2})+$",
                                description="16 to 64 random bytes, hex")]


class TlsFingerprint(BaseModel):
    fingerprint: str
    spki_sha256: str
    certificate: str


def _service(state: StateDep) -> AttestationService:
    if state.attestation is None:
        raise ServiceUnavailable("attestation is not loaded", code="attestation_unavailable")
    return state.attestation


@router.get("/attestation", responses={200: {"content": {"application/json": {}}}, **error_responses(503)})
async def boot_attestation(state: StateDep) -> Response:
    """Boot-time evidence binding the TLS, E2E and report-signing keys (cached)."""
    return Response(_service(state).boot_json, media_type="application/json")


@router.post("/attestation", dependencies=[ip_rate_limit("attestation")], responses=error_responses(400, 429, 503))
async def fresh_attestation(body: NonceRequest, state: StateDep) -> dict[str, Any]:
    """Fresh evidence whose REPORT_DATA also binds the caller's nonce."""
    nonce = bytes.fromhex(body.nonce)  # the schema admits only whole bytes of hex, 16 to 64 of them
    try:
        document = await _service(state).document(nonce=nonce)
    except ServiceUnavailable:
        state.metrics.attestation.labels("fresh", "error").inc()
        raise
    state.metrics.attestation.labels("fresh", "ok").inc()
    return document


@router.get("/tls/fingerprint", responses=error_responses(503))
async def tls_fingerprint(state: StateDep) -> TlsFingerprint:
    """The TLS certificate this server presents, as bound in the attestation."""
    return TlsFingerprint(fingerprint=state.tls.fingerprint, spki_sha256=state.tls.spki_sha256,
                          certificate=state.tls.cert_pem)
