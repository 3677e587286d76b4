"""The attestation JSON document (SPEC §6) served at /api/v1/attestation, and its offline check.

`build_document` is what the server returns; `verify_document` (in document_verify.py, re-exported
here) is what `zka attest verify` and the report verifier run. Both are sync (certificate and
signature work): call them from a worker thread in async code.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from app.attestation import binding
from app.attestation.keyinfo import (
    b64_to_spki_der,
    cert_pem,
    cert_spki_der,
    e2e_fingerprint,
    pem_to_spki_der,
    signing_fingerprint,
    tls_fingerprint,
)
from app.attestation.measurement import RECIPE as SIMULATED_MEASUREMENT_RECIPE
from app.attestation.providers.base import PLATFORM_SEV_SNP, PLATFORM_SIMULATED, Evidence
from app.attestation.report import AttestationReport
from app.attestation.result import VerificationResult
from app.attestation.verify import Policy, verify_attestation

DOCUMENT_VERSION: Final = "zka-attestation-document-v1"
# Checks that make up "the hardware vouches for these keys", independent of a client's policy.
CORE_CHECKS: Final = ("chain", "cert_validity", "signature", "report_format", "signing_key", "tcb",
                      "chip_id", "report_data")
SIMULATED_WARNING: Final = (
    "SIMULATED attestation (development mode): signed by a local throwaway chain, not by AMD hardware; "
    "it proves nothing about where this code runs"
)


def build_document(
    evidence: Evidence,
    *,
    tls_cert_der: bytes,
    e2e_public_key_pem: str,
    signing_public_key_b64: str,
    nonce: bytes | None,
    now: datetime | None = None,
    extra_certs: Mapping[str, bytes] | None = None,
    simulated_ark_der: bytes | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """Assemble the document. `extra_certs` adds certificates the host did not supply (e.g. a VCEK
    from the KDS cache). The server checks its own evidence first, so `attestation.verified` means
    "AMD chain + signature + key binding verified here" (always false for simulated evidence)."""
    now = now or datetime.now(UTC)
    certs = {**(extra_certs or {}), **evidence.certs}
    e2e_spki = pem_to_spki_der(e2e_public_key_pem)
    signing_spki = b64_to_spki_der(signing_public_key_b64)
    inputs = binding.binding_inputs(tls_spki_der=cert_spki_der(tls_cert_der), e2e_spki_der=e2e_spki,
                                    signing_spki_der=signing_spki, nonce=nonce)
    simulated = evidence.platform == PLATFORM_SIMULATED
    check = verify_attestation(
        evidence.report, leaf=certs.get("VCEK") or certs.get("VLEK"),
        chain=[certs[k] for k in ("ASK", "ARK") if k in certs], now=now,
        policy=Policy(allow_debug=True, allow_migrate_ma=True, max_vmpl=3),
        expected_report_data=bytes.fromhex(inputs["report_data"]),
        trust_simulated=simulated and simulated_ark_der is not None, simulated_ark=simulated_ark_der,
    )
    core_ok = all(c.ok for c in check.checks if c.name in CORE_CHECKS) and check.report is not None
    notes = list(warnings or []) + ([SIMULATED_WARNING] if simulated else [])
    doc: dict[str, Any] = {
        "version": DOCUMENT_VERSION,
        "platform": evidence.platform,
        "provider": evidence.provider,
        "generated_at": now.isoformat(),
        "warnings": notes,
        "report": _report_section(evidence.report, check.report),
        "certificates": _cert_section(certs, check),
        "binding": inputs,
        "keys": _keys_section(tls_cert_der, e2e_public_key_pem, signing_public_key_b64),
        "server_verification": {"ok": core_ok, "checks": [c.to_dict() for c in check.checks]},
    }
    if simulated:
        doc["report"]["measurement_recipe"] = SIMULATED_MEASUREMENT_RECIPE
    doc.update(_compat_fields(doc, check.report, verified=core_ok and not simulated, nonce=nonce))
    return doc


def _report_section(raw: bytes, parsed: AttestationReport | None) -> dict[str, Any]:
    return {"raw": base64.b64encode(raw).decode(), "decoded": parsed.to_dict() if parsed else None}


def _cert_section(certs: Mapping[str, bytes], check: VerificationResult) -> dict[str, Any]:
    # Prefer the path the server actually verified (it may include AMD's shipped ASK); otherwise
    # pass on whatever the host supplied so a client can still try.
    leaf_kind = check.facts.get("signing_key") or ("VLEK" if "VLEK" in certs else "VCEK")
    leaf: bytes | None
    if check.chain_der:
        leaf, chain = check.chain_der[0], check.chain_der[1:]
    else:
        leaf, chain = certs.get(leaf_kind), [certs[k] for k in ("ASK", "ARK") if k in certs]
    return {
        "signing_key": leaf_kind,
        "vcek": cert_pem(leaf) if leaf else None,
        "chain": [cert_pem(c) for c in chain],
        "root": check.facts.get("root"),
    }


def _keys_section(tls_cert_der: bytes, e2e_pem: str, signing_b64: str) -> dict[str, Any]:
    return {
        "tls": {"certificate": cert_pem(tls_cert_der), "fingerprint": tls_fingerprint(tls_cert_der)},
        "e2e": {"public_key": e2e_pem, "fingerprint": e2e_fingerprint(e2e_pem)},
        "signing": {"public_key": signing_b64, "fingerprint": signing_fingerprint(signing_b64),
                    "algorithm": "ECDSA-P256-SHA256"},
    }


def _compat_fields(
    doc: dict[str, Any], parsed: AttestationReport | None, *, verified: bool, nonce: bytes | None
) -> dict[str, Any]:
    """Fields existing clients read (TS original §31.3 / Go rewrite), with honest values."""
    sev = doc["platform"] == PLATFORM_SEV_SNP
    measurement = parsed.measurement.hex() if parsed else None
    report_data = parsed.report_data.hex() if parsed else None
    bound = parsed is not None and report_data == doc["binding"]["report_data"]
    fw = f"{parsed.current_major}.{parsed.current_minor}.{parsed.current_build}" if parsed else None
    keys = doc["keys"]
    return {
        "attestation": {
            "verified": verified, "enclave": sev, "sevSnpEnabled": sev, "vcekVerified": verified,
            "reportDataBoundToRequest": bound and nonce is not None, "measurement": measurement,
            "reportData": report_data, "platformVersion": fw,
        },
        "sevSnpEnabled": sev,
        "measurement": measurement,
        "reportData": report_data,
        "tlsBinding": {
            "fingerprint": keys["tls"]["fingerprint"], "algorithm": "SHA-256", "bound": bound,
            "verification": "reportData = binding.recipe over SHA-256 of the TLS certificate's SPKI "
                            "(binding.tls_spki_sha256), the E2E and signing keys and the nonce",
        },
        "e2eEncryption": {
            "publicKey": keys["e2e"]["public_key"], "publicKeyFingerprint": keys["e2e"]["fingerprint"],
            "algorithm": "ECIES (ECDH P-256 + AES-256-GCM)",
            "usage": "Encrypt credentials with this key before sending for maximum security",
        },
        "reportSigning": {
            "publicKey": keys["signing"]["public_key"], "publicKeyFingerprint": keys["signing"]["fingerprint"],
            "algorithm": "ECDSA-P256-SHA256", "usage": "Verify signed performance reports with this key",
        },
        "security": {
            "tlsMitmProtection": bound, "e2eMitmProtection": True,
            "message": "Double encryption: TLS for transport + E2E for application layer" if bound
            else "WARNING: TLS key not bound to the attestation - MITM possible",
        },
    }


from app.attestation.document_verify import verify_document  # noqa: E402  (re-export)

__all__ = ["build_document", "verify_document"]
