"""The grpc.aio server: same process and event loop as the REST app, same attested TLS identity.

TLS presents the HTTPS server's certificate and key (the one bound into the attestation report), so the
gateway pins both transports through one attestation. ZKA_GRPC_CLIENT_CA turns on mutual TLS: a client
without a certificate signed by that CA cannot complete the handshake.
"""

from __future__ import annotations

import socket
from pathlib import Path

import grpc
from cryptography.hazmat.primitives import serialization
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from app.core.logging import get_logger
from app.core.rate_limit import RateLimiter
from app.errors import StartupRefused
from app.grpc.generated import enclave_pb2, enclave_pb2_grpc
from app.grpc.service import EnclaveServicer
from app.services.crypto.tls_identity import TlsIdentity
from app.state import AppState

log = get_logger("zka.grpc")

SERVICE_NAME = "enclave.EnclaveService"
# A five-year signed report is ~0.5 MB on the wire. Requests are held to REST's body limit
# (ZKA_BODY_LIMIT_BYTES): a larger one is RESOURCE_EXHAUSTED before it is parsed.
MAX_SEND_BYTES = 8 * 1024 * 1024


def server_credentials(tls: TlsIdentity, client_ca: Path | None) -> grpc.ServerCredentials:
    key_pem = tls.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )  # in memory only: never written to disk
    ca_pem = None
    if client_ca is not None:
        try:
            ca_pem = client_ca.read_bytes()
        except OSError as exc:
            raise StartupRefused(f"ZKA_GRPC_CLIENT_CA {client_ca} cannot be read ({exc.strerror}): give a PEM CA "
                                 "bundle readable by zka, or unset it (TLS without client certificates)") from None
        if b"-----BEGIN CERTIFICATE-----" not in ca_pem:
            raise StartupRefused(f"ZKA_GRPC_CLIENT_CA {client_ca} holds no PEM certificate: give the CA that "
                                 "signs the gateway's client certificate")
    return grpc.ssl_server_credentials([(key_pem, tls.cert_pem.encode())], root_certificates=ca_pem,
                                       require_client_auth=ca_pem is not None)


def _check_free(host: str, port: int, address: str) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise StartupRefused(f"cannot listen for gRPC on {address} ({exc.strerror}): choose another "
                             "ZKA_GRPC_PORT or stop what uses it") from None


async def start_grpc_server(state: AppState, limiter: RateLimiter) -> grpc.aio.Server:
    """Bound and serving on return; StartupRefused (one line) when the port cannot be used."""
    settings = state.settings.server
    port = settings.grpc_port
    assert port is not None
    if port == settings.port:
        raise StartupRefused(f"ZKA_GRPC_PORT {port} is the HTTPS port too: give gRPC a port of its own")
    credentials = server_credentials(state.tls, settings.grpc_client_ca)
    server = grpc.aio.server(options=[("grpc.max_send_message_length", MAX_SEND_BYTES),
                                      ("grpc.max_receive_message_length", settings.body_limit_bytes),
                                      ("grpc.so_reuseport", 0)])
    enclave_pb2_grpc.add_EnclaveServiceServicer_to_server(EnclaveServicer(state, limiter), server)
    checker = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    names = [SERVICE_NAME, health.SERVICE_NAME]
    if not settings.is_production:  # reflection (grpcurl without the proto) in development only
        from grpc_reflection.v1alpha import reflection

        names.append(reflection.SERVICE_NAME)
        reflection.enable_server_reflection(names, server)
    address = f"[{settings.host}]:{port}" if ":" in settings.host else f"{settings.host}:{port}"
    _check_free(settings.host, port, address)  # one clear line, before gRPC core logs its own
    try:
        bound = server.add_secure_port(address, credentials)
    except RuntimeError:
        bound = 0
    if bound == 0:
        raise StartupRefused(f"cannot listen for gRPC on {address}: choose another ZKA_GRPC_PORT or stop what uses it")
    await server.start()
    for name in ("", SERVICE_NAME):
        await checker.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("grpc serving", port=port, mutual_tls=settings.grpc_client_ca is not None,
             reflection=not settings.is_production, service=enclave_pb2.DESCRIPTOR.services_by_name[
                 "EnclaveService"].full_name)
    return server
