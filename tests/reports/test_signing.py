"""Canonical JSON (the rfc8785 library), hash and signature against the TypeScript original's vectors."""

from __future__ import annotations

import json

from app.services.report_signing import canonical_json, report_hash, verify_signature
from app.services.report_verify import verify_report
from tests.conftest import VECTORS

LEGACY = json.loads((VECTORS / "report-signing-legacy.json").read_text())


def test_js_number_formatting_vector() -> None:
    values = {"a": 100.0, "b": 1e21, "c": 1e-7, "d": 0.1 + 0.2, "e": -0.0, "f": None, "g": None,
              "h": 123456789012345680000.0, "i": 5e-7, "j": 1.5e300}
    assert canonical_json(values).decode() == LEGACY["js_number_formatting"]["canonical"]


def test_legacy_report_reproduces_hash_and_verifies() -> None:
    payload = json.loads(LEGACY["canonical_json"])
    assert canonical_json(payload).decode() == LEGACY["canonical_json"]
    assert report_hash(payload) == LEGACY["report_hash"]
    assert verify_signature(LEGACY["public_key_b64_spki"], LEGACY["report_hash"], LEGACY["signature_b64_der"])
    result = verify_report(LEGACY)
    assert result.ok, result.failed
    assert result.check("attestation").skipped  # type: ignore[union-attr]


def test_legacy_report_with_a_changed_number_fails_naming_the_hash() -> None:
    payload = json.loads(LEGACY["canonical_json"])
    payload["metrics"]["sharpeRatio"] = 1.86
    tampered = {"financialData": payload, "reportHash": LEGACY["report_hash"],
                "signature": LEGACY["signature_b64_der"], "publicKey": LEGACY["public_key_b64_spki"]}
    result = verify_report(tampered)
    assert (result.ok, result.failed) == (False, "report_hash")
    # Re-hashing the edit does not help: the signature is over the original hash.
    tampered["reportHash"] = report_hash(payload)
    assert verify_report(tampered).failed == "signature"
