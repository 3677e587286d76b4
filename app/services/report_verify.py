"""Offline verification of a signed report (what POST /reports/verify and `zka report verify` run).

Checks, in order, each named in the result:
  format                       the document has a payload, a hash, a signature and a public key
  report_hash                  SHA-256 of the RFC 8785 canonical payload equals report_hash
  signature                    ECDSA P-256/SHA-256 over the ASCII report_hash verifies with public_key
  signing_key                  the key named inside the signed payload is the key that signed
  attestation.*                the embedded attestation document, verified by the attestation
                               verifier (AMD chain, report signature, TCB, policy, measurement
                               allow-list, REPORT_DATA binding of its keys)
  report_data_binds_signing_key  REPORT_DATA recomputed (app.attestation.binding) with *this
                               report's* public key equals the hardware report's REPORT_DATA
A report without evidence (the legacy form) passes on hash and signature alone, and says so.
Simulated evidence passes only when the caller trusts simulation, and is always labelled.

Accepted shapes: ours ({payload, report_hash, signature, public_key}), the TypeScript original's
({financialData, reportHash, signature, publicKey}) and the test-vector form ({canonical_json,
report_hash, signature_b64_der, public_key_b64_spki}).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.attestation import binding
from app.attestation.document_verify import verify_document
from app.attestation.keyinfo import cert_spki_der, pem_to_der_cert, pem_to_spki_der
from app.attestation.result import VerificationResult
from app.services.report_signing import load_public_key, report_hash, verify_signature

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class _Report:
    payload: Any
    report_hash: str
    signature: str
    public_key: str


def _first(doc: Mapping[str, Any], *names: str) -> Any:
    return next((doc[n] for n in names if doc.get(n) is not None), None)


def _parse(doc: Any) -> _Report:
    if not isinstance(doc, Mapping):
        raise ValueError("a report is a JSON object")
    payload = _first(doc, "payload", "financialData")
    if payload is None and isinstance(doc.get("canonical_json"), str):
        payload = json.loads(doc["canonical_json"])
    digest = _first(doc, "report_hash", "reportHash")
    signature = _first(doc, "signature", "signature_b64_der")
    key = _first(doc, "public_key", "publicKey", "public_key_b64_spki")
    missing = [n for n, v in (("payload", payload), ("report_hash", digest), ("signature", signature),
                              ("public_key", key)) if v is None]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    if not all(isinstance(v, str) for v in (digest, signature, key)):
        raise ValueError("report_hash, signature and public_key must be strings")
    return _Report(payload, digest, signature, key)


def verify_report(
    doc: Any,
    *,
    measurements: Sequence[bytes] = (),
    trust_simulated: bool = False,
    simulated_ark_pem: str | None = None,
    now: datetime | None = None,
) -> VerificationResult:
    """Sync (hashing, ECDSA, certificate chains): call it from a worker thread in async code."""
    result = VerificationResult()
    try:
        report = _parse(doc)
        load_public_key(report.public_key)
    except ValueError as exc:
        result.add("format", False, f"not a signed report: {exc}")
        return result
    result.add("format", True, "payload, report_hash, signature and public_key present")
    _check_hash(result, report)
    ok = verify_signature(report.public_key, report.report_hash, report.signature)
    result.add("signature", ok, "ECDSA P-256/SHA-256 over the report hash " + ("verifies" if ok else "does NOT verify")
               + " with the report's public key")
    payload = report.payload if isinstance(report.payload, Mapping) else {}
    _check_signing_key(result, payload, report.public_key)
    evidence = payload.get("attestation")
    if not isinstance(evidence, Mapping):
        result.skip("attestation", "the report carries no hardware evidence: hash and signature only prove that "
                                   "the holder of this key signed it, not where it ran")
        result.facts["evidence"] = False
        return result
    _check_evidence(result, dict(evidence), report.public_key, measurements=measurements,
                    trust_simulated=trust_simulated, simulated_ark_pem=simulated_ark_pem, now=now or datetime.now(UTC))
    return result


def _check_hash(result: VerificationResult, report: _Report) -> None:
    try:
        actual = report_hash(report.payload)
    except ValueError as exc:
        result.add("report_hash", False, f"payload cannot be canonicalised ({exc})")
        return
    ok = _HEX64.match(report.report_hash) is not None and hmac.compare_digest(actual, report.report_hash)
    result.add("report_hash", ok, f"SHA-256 of the RFC 8785 payload is {actual}"
               + ("" if ok else f", the report claims {report.report_hash[:64]}: a signed field was changed"))


def _check_signing_key(result: VerificationResult, payload: Mapping[str, Any], public_key: str) -> None:
    named = (payload.get("signing") or {}).get("public_key") if isinstance(payload.get("signing"), Mapping) else None
    if named is None:
        result.skip("signing_key", "the payload does not name its signing key (legacy form)")
        return
    result.add("signing_key", _same_key(named, public_key),
               "the signed payload names the key that signed it" if _same_key(named, public_key)
               else "the signed payload names a different signing key")


def _same_key(a_b64: str, b_b64: str) -> bool:
    try:
        return hmac.compare_digest(base64.b64decode(a_b64, validate=True), base64.b64decode(b_b64, validate=True))
    except (binascii.Error, ValueError, TypeError):
        return False


def _simulated_ark(evidence: Mapping[str, Any], given: str | None) -> str | None:
    if given is not None:
        return given
    chain = (evidence.get("certificates") or {}).get("chain") or []
    return str(chain[-1]) if chain else None


def _check_evidence(
    result: VerificationResult, evidence: dict[str, Any], public_key: str, *, measurements: Sequence[bytes],
    trust_simulated: bool, simulated_ark_pem: str | None, now: datetime,
) -> None:
    ark = _simulated_ark(evidence, simulated_ark_pem) if trust_simulated else None
    inner = verify_document(evidence, server_cert_der=None, nonce=None, measurements=measurements, now=now,
                            trust_simulated=trust_simulated and ark is not None, simulated_ark_pem=ark)
    for check in inner.checks:
        result.add(f"attestation.{check.name}", check.ok, check.detail, skipped=check.skipped)
    result.facts.update(evidence=True, platform=evidence.get("platform"), root=inner.facts.get("root"),
                        simulated=inner.facts.get("simulated", evidence.get("platform") == "simulated"))
    if inner.report is not None:
        result.facts["measurement"] = inner.report.measurement.hex()
    _check_binding(result, evidence, inner, public_key)


def _check_binding(
    result: VerificationResult, evidence: Mapping[str, Any], inner: VerificationResult, public_key: str
) -> None:
    if inner.report is None:
        result.add("report_data_binds_signing_key", False, "no parsable hardware report to compare with")
        return
    try:
        keys = evidence["keys"]
        nonce_hex = (evidence.get("binding") or {}).get("nonce")
        expected = binding.report_data(
            tls_spki_der=cert_spki_der(pem_to_der_cert(keys["tls"]["certificate"])),
            e2e_spki_der=pem_to_spki_der(keys["e2e"]["public_key"]),
            signing_spki_der=base64.b64decode(public_key, validate=True),
            nonce=bytes.fromhex(nonce_hex) if nonce_hex is not None else None,
        )
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        result.add("report_data_binds_signing_key", False, f"binding inputs unreadable ({type(exc).__name__})")
        return
    ok = hmac.compare_digest(expected, inner.report.report_data)
    result.add("report_data_binds_signing_key", ok,
               "the hardware report's REPORT_DATA commits to this report's signing key" if ok
               else "REPORT_DATA does not commit to this report's signing key")
