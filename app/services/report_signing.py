"""Report hash and signature (SPEC §10), wire-compatible with the TypeScript original.

report_hash = SHA-256 hex of the RFC 8785 (JCS) canonical JSON of the payload;
signature   = ECDSA P-256 / SHA-256 over the 64 ASCII bytes of report_hash, DER, base64;
public key  = base64 of the SPKI DER.

Canonical JSON is app.services.canonical_json: byte-identical to the `rfc8785` library (held to it by a
differential fuzz in the tests), because a canonicaliser that drifted from other verifiers' would
reproduce the Go rewrite's bug (reports rejected by their own verifier).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.services.canonical_json import canonical_json

__all__ = ["ALGORITHM", "canonical_json", "load_public_key", "report_hash", "sign_hash", "verify_signature"]

ALGORITHM: Final = "ECDSA-P256-SHA256"


def report_hash(payload: Any) -> str:
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def sign_hash(key: ec.EllipticCurvePrivateKey, digest_hex: str) -> str:
    return base64.b64encode(key.sign(digest_hex.encode("ascii"), ec.ECDSA(hashes.SHA256()))).decode()


def load_public_key(public_key_b64: str) -> ec.EllipticCurvePublicKey:
    """Base64 SPKI DER → P-256 key; ValueError on anything else."""
    try:
        key = serialization.load_der_public_key(base64.b64decode(public_key_b64, validate=True))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ValueError("public key is not base64 SPKI DER") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("public key is not an ECDSA P-256 key")
    return key


def verify_signature(public_key_b64: str, digest_hex: str, signature_b64: str) -> bool:
    """True when signature (base64 DER) is the key's signature over the ASCII bytes of digest_hex."""
    key = load_public_key(public_key_b64)
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        key.verify(signature, digest_hex.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return True
