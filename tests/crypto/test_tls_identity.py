"""TLS identity: certificate contents, fingerprints, private files, and a real handshake."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import os
import re
import ssl
import stat
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import ExtendedKeyUsageOID

from app.services.crypto import build_ssl_context, fingerprint_colon_hex, generate_tls_identity, write_tls_files


def test_certificate_contents() -> None:
    identity = generate_tls_identity(["zka.example.com", "10.0.0.5", " "])
    cert = identity.certificate
    assert isinstance(identity.private_key.curve, ec.SECP256R1)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "zka.example.com"]
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"), ipaddress.ip_address("10.0.0.5")
    ]
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert timedelta(days=364) < lifetime <= timedelta(days=366)
    assert cert.not_valid_before_utc <= datetime.now(UTC) < cert.not_valid_after_utc
    assert 0 < cert.serial_number < 2**127
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku
    cert.verify_directly_issued_by(cert)  # self-signed
    assert generate_tls_identity().certificate.serial_number != cert.serial_number


def test_fingerprints() -> None:
    identity = generate_tls_identity()
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", identity.fingerprint)
    assert identity.fingerprint.replace(":", "").lower() == hashlib.sha256(identity.cert_der).hexdigest()
    assert fingerprint_colon_hex(b"") == ":".join(f"{b:02X}" for b in hashlib.sha256(b"").digest())
    spki = identity.certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert identity.spki_der == spki and identity.spki_sha256 == hashlib.sha256(spki).hexdigest()
    assert "PRIVATE" not in repr(identity)


def test_private_files_are_0600_and_removed() -> None:
    identity = generate_tls_identity()
    with write_tls_files(identity) as files:
        assert stat.S_IMODE(os.stat(files.dir).st_mode) == 0o700
        for path in (files.certfile, files.keyfile):
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert files.certfile.read_text() == identity.cert_pem
        assert b"PRIVATE KEY" in files.keyfile.read_bytes()
        directory = files.dir
    assert not directory.exists()


async def test_handshake_presents_the_identity() -> None:
    identity = generate_tls_identity()
    server_ctx = build_ssl_context(identity)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"ok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    client_ctx = ssl.create_default_context(cadata=identity.cert_pem)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx, server_hostname="localhost")
        assert await reader.read() == b"ok"
        peer = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        assert fingerprint_colon_hex(peer) == identity.fingerprint
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
