"""REPORT_DATA binding: the one function that ties our keys (and an optional nonce) to a report.

SPEC §6: REPORT_DATA = SHA-512("zka-attestation-v1" ‖ 0x00 ‖ SHA-256(TLS SPKI DER) ‖
SHA-256(E2E SPKI DER) ‖ SHA-256(signing SPKI DER) ‖ SHA-256(nonce)), nonce term = 32 zero bytes when
there is no nonce. The server, the CLI verifier and the report verifier must all call this module:
both earlier implementations drifted apart because producer and verifier each had their own recipe.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

DOMAIN: Final = b"zka-attestation-v1"
REPORT_DATA_SIZE: Final = 64
_NO_NONCE: Final = bytes(32)

RECIPE: Final = (
    'REPORT_DATA = SHA-512( "zka-attestation-v1" || 0x00 || SHA-256(TLS SPKI DER) || '
    "SHA-256(E2E SPKI DER) || SHA-256(signing SPKI DER) || N ), "
    "N = SHA-256(nonce bytes) or 32 zero bytes when there is no nonce"
)


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def nonce_term(nonce: bytes | None) -> bytes:
    # An empty nonce is still a nonce (hash of b""); only None means "no nonce" so the two
    # cannot be confused by a client that sends an empty hex string.
    return _NO_NONCE if nonce is None else _sha256(nonce)


def report_data(
    *, tls_spki_der: bytes, e2e_spki_der: bytes, signing_spki_der: bytes, nonce: bytes | None
) -> bytes:
    """The 64 bytes that go into the hardware report's REPORT_DATA field."""
    return report_data_from_hashes(
        tls_spki_sha256=_sha256(tls_spki_der), e2e_spki_sha256=_sha256(e2e_spki_der),
        signing_spki_sha256=_sha256(signing_spki_der), nonce_term=nonce_term(nonce),
    )


def binding_inputs(
    *, tls_spki_der: bytes, e2e_spki_der: bytes, signing_spki_der: bytes, nonce: bytes | None
) -> dict[str, Any]:
    """JSON-ready recipe and intermediate hashes so a third party can recompute REPORT_DATA."""
    return {
        "version": DOMAIN.decode(),
        "recipe": RECIPE,
        "tls_spki_sha256": _sha256(tls_spki_der).hex(),
        "e2e_spki_sha256": _sha256(e2e_spki_der).hex(),
        "signing_spki_sha256": _sha256(signing_spki_der).hex(),
        "nonce": None if nonce is None else nonce.hex(),
        "nonce_term": nonce_term(nonce).hex(),
        "report_data": report_data(
            tls_spki_der=tls_spki_der,
            e2e_spki_der=e2e_spki_der,
            signing_spki_der=signing_spki_der,
            nonce=nonce,
        ).hex(),
    }


def report_data_from_hashes(
    *, tls_spki_sha256: bytes, e2e_spki_sha256: bytes, signing_spki_sha256: bytes, nonce_term: bytes
) -> bytes:
    """The one SHA-512 construction, from the intermediate hashes (also for auditors holding only the JSON)."""
    for part in (tls_spki_sha256, e2e_spki_sha256, signing_spki_sha256, nonce_term):
        if len(part) != 32:
            raise ValueError("every binding term must be 32 bytes")
    return hashlib.sha512(
        DOMAIN + b"\x00" + tls_spki_sha256 + e2e_spki_sha256 + signing_spki_sha256 + nonce_term
    ).digest()
