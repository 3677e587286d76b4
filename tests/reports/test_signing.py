"""Canonical JSON, hash and signature: byte-for-byte rfc8785, and the TypeScript original's vector."""

from __future__ import annotations

import json
from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.analytics import analyse_snapshots
from app.services.analytics.bench import synthetic_rows
from app.services.report_signing import canonical_json, report_hash, verify_signature
from app.services.report_verify import verify_report
from tests.conftest import VECTORS

LEGACY = json.loads((VECTORS / "report-signing-legacy.json").read_text())

json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_canonical_json_equals_rfc8785(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        return  # e.g. lone surrogates: both refuse
    assert canonical_json(value) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), max_size=50))
def test_every_float_formats_as_ecmascript(values: list[float]) -> None:
    assert canonical_json({"v": values}) == rfc8785.dumps({"v": values})


def test_a_five_year_analytics_payload_is_identical() -> None:
    payload = analyse_snapshots(synthetic_rows(3, 1825))
    assert canonical_json(payload) == rfc8785.dumps(payload)


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
