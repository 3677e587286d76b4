"""The enclave's attestation: boot evidence binding its keys (cached), fresh evidence on request.

The boot document binds the TLS, E2E and report-signing public keys with no nonce; it is serialised
once so the hot GET path only writes bytes. Fresh evidence (POST with a nonce) goes through the
provider's hardware gate (serialised, spaced) and is never cached.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.attestation import binding
from app.attestation.certs import der
from app.attestation.document import build_document
from app.attestation.kds import KdsClient
from app.attestation.providers import (
    AttestationError,
    Evidence,
    EvidenceProvider,
    SimulatedProvider,
)
from app.config import Settings
from app.core.logging import get_logger
from app.core.outbound import OutboundHttp
from app.errors import ServiceUnavailable, StartupRefused
from app.services.crypto.tls_identity import TlsIdentity
from app.services.evidence import build_evidence_provider, kds_client, missing_vcek
from app.services.keys import EnclaveKeys

log = get_logger("zka.attestation")


@dataclass
class AttestationService:
    provider: EvidenceProvider
    tls: TlsIdentity
    keys: EnclaveKeys
    kds: KdsClient | None
    weaknesses: list[str]
    boot_document: dict[str, Any] = field(default_factory=dict)
    boot_json: bytes = b""

    @property
    def platform(self) -> str:
        return str(self.boot_document.get("platform", "unknown"))

    def readiness(self) -> dict[str, Any]:
        verified = bool(self.boot_document.get("server_verification", {}).get("ok"))
        return {"ok": bool(self.boot_json), "provider": self.provider.name, "platform": self.platform,
                "evidence_verified_here": verified}

    def report_data(self, nonce: bytes | None) -> bytes:
        return binding.report_data(tls_spki_der=self.tls.spki_der, e2e_spki_der=self.keys.e2e.public_spki_der,
                                   signing_spki_der=self.keys.signing_spki_der, nonce=nonce)

    async def load_boot_evidence(self) -> None:
        self.boot_document = await self.document(nonce=None)
        self.boot_json = json.dumps(self.boot_document, separators=(",", ":")).encode()
        log.info("attestation ready", provider=self.provider.name, platform=self.platform,
                 verified_here=self.readiness()["evidence_verified_here"])

    async def document(self, *, nonce: bytes | None) -> dict[str, Any]:
        try:
            evidence = await self.provider.get_evidence(self.report_data(nonce))
        except AttestationError as exc:
            message = f"attestation evidence unavailable: {exc}"
            raise ServiceUnavailable(message, code="attestation_unavailable") from exc
        extra = await self._missing_vcek(evidence)
        simulated_ark = None
        if isinstance(self.provider, SimulatedProvider):
            simulated_ark = der((await self.provider.authority()).ark)
        return await asyncio.to_thread(
            build_document, evidence, tls_cert_der=self.tls.cert_der, e2e_public_key_pem=self.keys.e2e.public_key_pem,
            signing_public_key_b64=self.keys.signing_public_key_b64, nonce=nonce, now=datetime.now(UTC),
            extra_certs=extra, simulated_ark_der=simulated_ark, warnings=list(self.weaknesses),
        )

    async def _missing_vcek(self, evidence: Evidence) -> dict[str, bytes]:
        return await missing_vcek(self.kds, evidence)


async def build_attestation(
    settings: Settings, *, tls: TlsIdentity, keys: EnclaveKeys, http: OutboundHttp,
    provider: EvidenceProvider | None = None, kds: KdsClient | None = None,
) -> AttestationService:
    provider = provider or build_evidence_provider(settings)
    kds = kds or kds_client(settings, http.client)
    service = AttestationService(provider=provider, tls=tls, keys=keys, kds=kds,
                                 weaknesses=settings.development_weaknesses())
    try:
        await service.load_boot_evidence()
    except ServiceUnavailable as exc:
        raise StartupRefused(exc.message) from exc
    return service
