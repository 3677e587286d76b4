from __future__ import annotations

import hashlib

from app.attestation.binding import binding_inputs, report_data, report_data_from_hashes

KEYS = {"tls_spki_der": b"tls", "e2e_spki_der": b"e2e", "signing_spki_der": b"sig"}


def _manual(nonce_term: bytes) -> bytes:
    h = hashlib.sha256
    return hashlib.sha512(
        b"zka-attestation-v1\x00" + h(b"tls").digest() + h(b"e2e").digest() + h(b"sig").digest() + nonce_term
    ).digest()


def test_report_data_without_nonce_uses_zero_term() -> None:
    assert report_data(**KEYS, nonce=None) == _manual(bytes(32))
    assert len(report_data(**KEYS, nonce=None)) == 64


def test_report_data_with_nonce_hashes_it() -> None:
    assert report_data(**KEYS, nonce=b"\x01\x02") == _manual(hashlib.sha256(b"\x01\x02").digest())
    # b"" is a nonce, distinct from "no nonce"
    assert report_data(**KEYS, nonce=b"") != report_data(**KEYS, nonce=None)


def test_every_key_matters() -> None:
    base = report_data(**KEYS, nonce=None)
    for name in KEYS:
        assert report_data(**{**KEYS, name: b"other"}, nonce=None) != base


def test_inputs_let_a_third_party_recompute() -> None:
    inputs = binding_inputs(**KEYS, nonce=b"n")
    again = report_data_from_hashes(
        tls_spki_sha256=bytes.fromhex(inputs["tls_spki_sha256"]),
        e2e_spki_sha256=bytes.fromhex(inputs["e2e_spki_sha256"]),
        signing_spki_sha256=bytes.fromhex(inputs["signing_spki_sha256"]),
        nonce_term=bytes.fromhex(inputs["nonce_term"]),
    )
    assert again.hex() == inputs["report_data"] == report_data(**KEYS, nonce=b"n").hex()
    assert inputs["nonce"] == b"n".hex() and "SHA-512" in inputs["recipe"]
