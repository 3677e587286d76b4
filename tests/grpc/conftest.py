"""A real `zka serve` with gRPC on (a subprocess, so its stubs and the client's never share a protobuf
pool), a client generated at test time from the original's enclave.proto (never zka's checked-in stubs),
and a channel pinned to the certificate the service's attestation binds."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.bench.server import free_port, running_server
from app.cli.attest import fetch_document, verify_attestation_document
from app.db import SessionMaker, create_engine, create_sessionmaker
from tests.conftest import private_database
from tests.paths import FIXTURES

PROTO = FIXTURES / "ts-original" / "enclave.proto"
SECRET = "grpc-test-secret-" + "z" * 32
ALICE, BOB, CAROL = "user_grpcAliceAAAA", "user_grpcBobBBBBBB", "user_grpcCarolCCCC"


@dataclass
class Client:
    pb: ModuleType
    grpc_pb: ModuleType


@pytest.fixture(scope="session")
def client_stubs(tmp_path_factory: pytest.TempPathFactory) -> Client:
    """grpc_tools.protoc on the original's proto, into a directory of its own, imported from there."""
    out = tmp_path_factory.mktemp("enclave_client")
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO.parent}", f"--python_out={out}",
                    f"--grpc_python_out={out}", str(PROTO)], check=True, capture_output=True, timeout=60)
    sys.path.insert(0, str(out))
    try:
        return Client(importlib.import_module("enclave_pb2"), importlib.import_module("enclave_pb2_grpc"))
    finally:
        sys.path.remove(str(out))


def ms(day: dt.date) -> int:
    """A day as the original's timestamps: 00:00 UTC, epoch milliseconds."""
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def token(uid: str, *, secret: str = SECRET, audience: str = "zka", lifetime: int = 600) -> str:
    now = int(time.time())
    return jwt.encode({"sub": uid, "aud": audience, "iat": now, "exp": now + lifetime}, secret, algorithm="HS256")


def auth(uid: str, **kw: Any) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token(uid, **kw)}")]


@dataclass
class Tls:
    """A CA and a client certificate it signed (PEM), for mutual TLS."""

    ca_pem: bytes
    client_cert_pem: bytes
    client_key_pem: bytes


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_client_ca() -> Tls:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("gateway CA")).issuer_name(_name("gateway CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("gateway")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return Tls(ca.public_bytes(pem), cert.public_bytes(pem),
               key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


@dataclass
class Service:
    url: str
    grpc_target: str
    cert_pem: bytes  # the attested TLS certificate: the only root the channels trust
    doc: dict[str, Any]
    database_url: str


def _attested_certificate(url: str) -> tuple[bytes, dict[str, Any]]:
    """As `zka attest verify`: the HTTPS certificate, checked against the attestation that binds it."""
    nonce = os.urandom(32)
    doc, cert_der = fetch_document(url, nonce=nonce)
    result = verify_attestation_document(doc, server_cert=cert_der, nonce=nonce, measurements=[],
                                         trust_simulated=True)
    assert result.ok, result.failed
    import ssl

    return ssl.DER_cert_to_PEM_cert(cert_der).encode(), doc


@pytest.fixture
async def db(service: Service) -> AsyncIterator[SessionMaker]:
    """The service's own database, to seed and to check that nothing was stored."""
    engine = create_engine(service.database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture(scope="module")
def mtls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Tls, Path]:
    tls = make_client_ca()
    path = tmp_path_factory.mktemp("mtls") / "gateway-ca.pem"
    path.write_bytes(tls.ca_pem)
    return tls, path


def serve(migrated_database: str, tmp: Path, extra: dict[str, str]) -> Iterator[Service]:
    database_url = private_database(migrated_database, tmp)
    port = free_port()
    env = {"ZKA_DATABASE_URL": database_url, "ZKA_JWT_SECRET": SECRET, "ZKA_GRPC_PORT": str(port), **extra}
    with running_server(env=env, data_dir=tmp / "data") as server:
        url = str(server["url"])
        cert_pem, doc = _attested_certificate(url)
        yield Service(url, f"127.0.0.1:{port}", cert_pem, doc, database_url)


@pytest.fixture(scope="module")
def service(migrated_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """gRPC over TLS, no client certificates."""
    yield from serve(migrated_database, tmp_path_factory.mktemp("grpc"),
                      {"ZKA_RATE_LIMIT_REPORTS": "1000/minute"})


@pytest.fixture(scope="module")
def mtls_service(migrated_database: str, tmp_path_factory: pytest.TempPathFactory,
                 mtls: tuple[Tls, Path]) -> Iterator[Service]:
    """gRPC with mutual TLS: ZKA_GRPC_CLIENT_CA names the gateway's CA."""
    yield from serve(migrated_database, tmp_path_factory.mktemp("grpc-mtls"), {"ZKA_GRPC_CLIENT_CA": str(mtls[1])})


def channel(service: Service, client_tls: Tls | None = None) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=service.cert_pem,
        private_key=client_tls.client_key_pem if client_tls else None,
        certificate_chain=client_tls.client_cert_pem if client_tls else None,
    )
    return grpc.aio.secure_channel(service.grpc_target, credentials)


@pytest.fixture
async def stub(service: Service, client_stubs: Client) -> AsyncIterator[Any]:
    async with channel(service) as ch:
        yield client_stubs.grpc_pb.EnclaveServiceStub(ch)
