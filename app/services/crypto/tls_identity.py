"""The TLS identity (SPEC §5, §6): an ECDSA P-256 key generated in the enclave at boot and a
self-signed certificate. Clients pin it through the attestation (REPORT_DATA binds the SPKI hash).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import secrets
import shutil
import ssl
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_VALIDITY = timedelta(days=365)
_CLOCK_SKEW = timedelta(minutes=5)


def fingerprint_colon_hex(der: bytes) -> str:
    """SHA-256 of the certificate DER as AA:BB:… (what browsers and openssl show)."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def spki_der(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class TlsIdentity:
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    certificate: x509.Certificate

    @cached_property
    def cert_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @cached_property
    def cert_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @cached_property
    def fingerprint(self) -> str:
        return fingerprint_colon_hex(self.cert_der)

    @cached_property
    def spki_der(self) -> bytes:
        return spki_der(self.private_key.public_key())

    @cached_property
    def spki_sha256(self) -> str:
        return hashlib.sha256(self.spki_der).hexdigest()

    def private_key_pem(self) -> bytes:
        """Unencrypted PKCS#8: only for handing to the TLS server; never log or store it."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def generate_tls_identity(
    hostnames: Iterable[str] = (), *, validity: timedelta = DEFAULT_VALIDITY, now: datetime | None = None
) -> TlsIdentity:
    key = ec.generate_private_key(ec.SECP256R1())
    start = (now or datetime.now(UTC)) - _CLOCK_SKEW
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "zka enclave")])
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(secrets.randbits(126) + 1)  # positive, < 2^127: within RFC 5280's 20 octets
        .not_valid_before(start)
        .not_valid_after(start + validity)
        .add_extension(x509.SubjectAlternativeName(_san_entries(hostnames)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return TlsIdentity(private_key=key, certificate=cert)


def _san_entries(hostnames: Iterable[str]) -> list[x509.GeneralName]:
    entries: list[x509.GeneralName] = []
    for host in ["localhost", "127.0.0.1", "::1", *hostnames]:
        host = host.strip()
        if not host:
            continue
        try:
            entry: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            entry = x509.DNSName(host.lower())
        if entry not in entries:
            entries.append(entry)
    return entries


def _key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


class TlsFiles:
    """Certificate and key written for uvicorn (which only takes paths) in a private temp dir.

    Prefer /dev/shm so the key never touches a disk; the directory is 0700, the files 0600, and
    cleanup() (or leaving the `with` block) deletes them.
    """

    def __init__(self, identity: TlsIdentity, *, directory: str | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="zka-tls-", dir=directory or _private_tmp_root()))
        self.certfile = self.dir / "cert.pem"
        self.keyfile = self.dir / "key.pem"
        try:
            _write_private(self.certfile, identity.cert_pem.encode())
            _write_private(self.keyfile, identity.private_key_pem())
        except BaseException:
            self.cleanup()
            raise

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> TlsFiles:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.cleanup()


def write_tls_files(identity: TlsIdentity, *, directory: str | None = None) -> TlsFiles:
    return TlsFiles(identity, directory=directory)


def build_ssl_context(identity: TlsIdentity) -> ssl.SSLContext:
    """A server context holding the identity; the temporary files exist only while loading."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with TlsFiles(identity) as files:
        context.load_cert_chain(files.certfile, files.keyfile)
    return context


def _private_tmp_root() -> str | None:
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
