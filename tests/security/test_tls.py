"""The TLS server offers authenticated encryption only: TLS 1.3, or TLS 1.2 with ECDHE and AES-GCM or
ChaCha20-Poly1305."""

from __future__ import annotations

import socket
import ssl

import pytest

from app.config import Settings
from tests.support.live_server import live_server


def _handshake(port: int, ciphers: str) -> str:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(ciphers)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        cipher = tls.cipher()
        assert cipher is not None
        return cipher[0]


def test_tls12_offers_aead_suites_only(settings: Settings) -> None:
    with live_server(settings) as server:
        port = int(server.url.rsplit(":", 1)[1])
        assert _handshake(port, "ECDHE-ECDSA-AES128-GCM-SHA256") == "ECDHE-ECDSA-AES128-GCM-SHA256"
        assert _handshake(port, "ECDHE-ECDSA-CHACHA20-POLY1305") == "ECDHE-ECDSA-CHACHA20-POLY1305"
        for legacy in ("ECDHE-ECDSA-AES256-SHA384", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA"):
            with pytest.raises(ssl.SSLError):
                _handshake(port, legacy)
