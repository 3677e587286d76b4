"""Offline/online verification of an attestation document (what `zka attest verify` runs).

Everything is recomputed from the raw report and the key material; the document's decoded and
compatibility fields are only compared, never trusted. The TLS certificate the client actually saw
(`server_cert_der`) replaces the one in the document when given, so a man in the middle with its
own certificate cannot reuse a genuine document.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.attestation import binding
from app.attestation.keyinfo import (
    b64_to_spki_der,
    cert_spki_der,
    pem_to_der_cert,
    pem_to_spki_der,
    tls_fingerprint,
)
from app.attestation.providers.base import PLATFORM_SEV_SNP, PLATFORM_SIMULATED
from app.attestation.result import VerificationResult
from app.attestation.verify import SIMULATED_ROOT, Policy, verify_attestation


@dataclass(frozen=True)
class _Parsed:
    platform: str
    report: bytes
    leaf: bytes | None
    chain: list[bytes]
    tls_cert: bytes
    e2e_spki: bytes
    signing_spki: bytes
    doc_nonce: bytes | None


class _DocError(ValueError):
    pass


def _parse(doc: dict[str, Any]) -> _Parsed:
    try:
        certs, keys = doc["certificates"], doc["keys"]
        nonce_hex = doc["binding"].get("nonce")
        return _Parsed(
            platform=str(doc["platform"]),
            report=base64.b64decode(doc["report"]["raw"], validate=True),
            leaf=pem_to_der_cert(certs["vcek"]) if certs.get("vcek") else None,
            chain=[pem_to_der_cert(p) for p in certs.get("chain") or []],
            tls_cert=pem_to_der_cert(keys["tls"]["certificate"]),
            e2e_spki=pem_to_spki_der(keys["e2e"]["public_key"]),
            signing_spki=b64_to_spki_der(keys["signing"]["public_key"]),
            doc_nonce=bytes.fromhex(nonce_hex) if nonce_hex is not None else None,
        )
    except (KeyError, TypeError, AttributeError, ValueError, binascii.Error) as exc:
        raise _DocError(f"{exc.__class__.__name__}: {exc}") from exc


def verify_document(
    doc: dict[str, Any],
    *,
    server_cert_der: bytes | None,
    nonce: bytes | None,
    measurements: Sequence[bytes],
    now: datetime,
    trust_simulated: bool = False,
    simulated_ark_pem: str | bytes | None = None,
    policy: Policy | None = None,
) -> VerificationResult:
    """Verify a document end to end. `measurements` is the allow-list (empty = not checked, reported
    as skipped); `policy` overrides the other policy knobs (its own `measurements` is replaced)."""
    result = VerificationResult()
    try:
        parsed = _parse(doc)
    except _DocError as exc:
        result.add("document_format", False, f"malformed attestation document ({exc})")
        return result
    result.add("document_format", True, f"platform {parsed.platform}")
    tls_cert = _check_tls(result, parsed, server_cert_der)
    used_nonce = _check_nonce(result, parsed, nonce)
    expected = binding.report_data(tls_spki_der=cert_spki_der(tls_cert), e2e_spki_der=parsed.e2e_spki,
                                   signing_spki_der=parsed.signing_spki, nonce=used_nonce)
    base = policy or Policy()
    policy = Policy(allow_debug=base.allow_debug, allow_migrate_ma=base.allow_migrate_ma,
                    max_vmpl=base.max_vmpl, min_tcb=base.min_tcb, measurements=list(measurements) or None)
    ark = simulated_ark_pem.encode() if isinstance(simulated_ark_pem, str) else simulated_ark_pem
    result.extend(verify_attestation(
        parsed.report, leaf=parsed.leaf, chain=parsed.chain, now=now, policy=policy,
        expected_report_data=expected, trust_simulated=trust_simulated and ark is not None, simulated_ark=ark,
    ))
    _check_platform(result, parsed.platform)
    _check_fields(result, doc)
    return result


def _check_tls(result: VerificationResult, parsed: _Parsed, server_cert_der: bytes | None) -> bytes:
    if server_cert_der is None:
        result.skip("tls_certificate", "offline: no live TLS certificate to compare; using the document's")
        return parsed.tls_cert
    ok = hmac.compare_digest(server_cert_der, parsed.tls_cert)
    result.add("tls_certificate", ok, f"server presented {tls_fingerprint(server_cert_der)}"
               + ("" if ok else f", document binds {tls_fingerprint(parsed.tls_cert)}"))
    return server_cert_der


def _check_nonce(result: VerificationResult, parsed: _Parsed, nonce: bytes | None) -> bytes | None:
    if nonce is None:
        result.skip("nonce", "no nonce sent: the evidence may be old (binding still checked)")
        return parsed.doc_nonce
    ok = parsed.doc_nonce is not None and hmac.compare_digest(parsed.doc_nonce, nonce)
    result.add("nonce", ok, "document answers our nonce" if ok else "document does not carry our nonce")
    return nonce


def _check_platform(result: VerificationResult, platform: str) -> None:
    root = result.facts.get("root")
    if root is None:
        return  # chain already failed
    expected = PLATFORM_SIMULATED if root == SIMULATED_ROOT else PLATFORM_SEV_SNP
    result.add("platform", platform == expected, f"document says {platform!r}, evidence anchored in {root}")


def _check_fields(result: VerificationResult, doc: dict[str, Any]) -> None:
    """Decoded/compat fields must agree with the signed report (naive clients read them)."""
    rep = result.report
    if rep is None:
        return
    att = doc.get("attestation") or {}
    claims = {
        "measurement": (doc.get("measurement"), att.get("measurement"), rep.measurement.hex()),
        "reportData": (doc.get("reportData"), att.get("reportData"), rep.report_data.hex()),
    }
    bad = [name for name, (top, inner, real) in claims.items() if (top, inner) != (real, real)]
    decoded = (doc.get("report") or {}).get("decoded") or {}
    if decoded.get("measurement") != rep.measurement.hex():
        bad.append("report.decoded.measurement")
    result.add("document_fields", not bad, f"disagree with the signed report: {bad}" if bad
               else "decoded and compatibility fields match the signed report")
